// Entry point: forwards to run_cli and turns exceptions into one clear line and an exit code.
#include "app/command.hpp"
#include "dsp/error.hpp"

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
    try {
        return mtag::app::run_cli(argc, argv);
    } catch (const mtag::UsageError& e) {
        std::cerr << "mtag: error: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "mtag: error: " << e.what() << "\n";
        return 1;
    }
}
