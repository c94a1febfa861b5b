#include "data/distributed/grad_sync.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cstring>
#include <sstream>

namespace mtag::data::dist {

GradientSynchronizer::GradientSynchronizer(Communicator& comm, std::vector<nn::Parameter*> params,
                                           GradSyncOptions options)
    : m_comm(comm), m_params(std::move(params)) {
    const std::size_t cap = std::max<std::size_t>(1, options.bucket_bytes / sizeof(float));
    m_bucket_of.resize(m_params.size());
    m_done.assign(m_params.size(), 0);
    // Reverse registration order: the output layer's gradients are final first.
    for (std::size_t k = m_params.size(); k-- > 0;) {
        const std::size_t n = m_params[k]->size();
        m_index[m_params[k]] = k;
        if (m_buckets.empty() || (!m_buckets.back().params.empty() && m_buckets.back().buffer.size() + n > cap))
            m_buckets.emplace_back();
        Bucket& b = m_buckets.back();
        b.params.push_back(k);
        b.buffer.resize(b.buffer.size() + n);
        m_bucket_of[k] = m_buckets.size() - 1;
        m_total += n;
    }
    m_requests.resize(m_buckets.size());
}

void GradientSynchronizer::begin_step() {
    std::fill(m_done.begin(), m_done.end(), 0);
    for (Bucket& b : m_buckets) {
        b.pending = b.params.size();
        b.started = false;
    }
    m_next_start = 0;
    m_overlapped = 0;
}

void GradientSynchronizer::start(Bucket& b) {
    float* dst = b.buffer.data();
    for (std::size_t k : b.params) {
        std::memcpy(dst, m_params[k]->grad_data(), m_params[k]->size() * sizeof(float));
        dst += m_params[k]->size();
    }
    b.request = m_comm.iallreduce_sum(b.buffer);
    b.started = true;
}

void GradientSynchronizer::start_ready() {
    while (m_next_start < m_buckets.size() && m_buckets[m_next_start].pending == 0) {
        start(m_buckets[m_next_start]);
        m_requests[m_next_start] = m_buckets[m_next_start].request;
        ++m_next_start;
    }
}

void GradientSynchronizer::on_module_done(nn::Module& module) {
    for (nn::Parameter* p : module.parameters()) {
        const auto it = m_index.find(p);
        if (it == m_index.end() || m_done[it->second]) continue;  // frozen, or already counted
        m_done[it->second] = 1;
        --m_buckets[m_bucket_of[it->second]].pending;
    }
    const std::size_t before = m_next_start;
    start_ready();
    m_overlapped += m_next_start - before;
    // Let MPI move the pending buckets along while backward continues.
    m_comm.poll(std::span<Request>(m_requests.data(), m_next_start));
}

void GradientSynchronizer::finish() {
    for (Bucket& b : m_buckets) b.pending = 0;
    start_ready();
    for (std::size_t i = 0; i < m_buckets.size(); ++i) {
        Bucket& b = m_buckets[i];
        m_comm.wait(m_requests[i], "gradient all-reduce");
        const float* src = b.buffer.data();
        for (std::size_t k : b.params) {
            std::memcpy(m_params[k]->grad_data(), src, m_params[k]->size() * sizeof(float));
            src += m_params[k]->size();
        }
    }
}

std::uint64_t parameter_checksum(nn::Module& model) {
    std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
    for (nn::Parameter* p : model.parameters()) {
        const auto* bytes = reinterpret_cast<const unsigned char*>(p->data());
        const std::size_t n = p->size() * sizeof(float);
        for (std::size_t i = 0; i < n; ++i) {
            h ^= bytes[i];
            h *= 0x100000001b3ull;
        }
    }
    return h;
}

void check_parameters_agree(Communicator& comm, nn::Module& model, std::int64_t step) {
    if (!comm.distributed()) return;
    const std::vector<std::uint64_t> sums = comm.allgather(parameter_checksum(model), "parameter checksum");
    if (std::all_of(sums.begin(), sums.end(), [&](std::uint64_t s) { return s == sums[0]; })) return;
    std::ostringstream detail;
    detail << "after optimizer step " << step << " the weights differ between ranks (checksums";
    for (std::size_t r = 0; r < sums.size(); ++r) detail << (r ? ", " : " ") << "rank " << r << " " << std::hex << sums[r] << std::dec;
    detail << "); every rank must run the same mtag build on the same data with the same config. Stopped; the "
              "last checkpoint is intact";
    throw Error("data-parallel training", detail.str());
}

void broadcast_model(Communicator& comm, nn::Module& model, int root) {
    if (!comm.distributed()) return;
    for (nn::Parameter* p : model.parameters())
        comm.broadcast(std::span<float>(p->data(), p->size()), root, "initial weights broadcast");
    for (nn::Buffer* b : model.buffers())
        comm.broadcast(std::span<float>(b->value.data(), b->value.size()), root, "initial buffers broadcast");
}

void average_buffers(Communicator& comm, nn::Module& model) {
    if (!comm.distributed()) return;
    const float scale = 1.0f / static_cast<float>(comm.size());
    for (nn::Buffer* b : model.buffers()) {
        if (b->integer) continue;  // num_batches_tracked: the same count on every rank
        std::span<float> v(b->value.data(), b->value.size());
        comm.allreduce_sum(v, "BatchNorm statistics average");
        for (float& x : v) x *= scale;
    }
}

}  // namespace mtag::data::dist
