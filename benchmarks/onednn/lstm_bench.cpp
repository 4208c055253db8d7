// oneDNN's LSTM primitive on the lstm4j suite's workloads, as a same-machine stand-in for PyTorch 2.x's CPU LSTM
// (which, for float32 on x86, calls oneDNN's lstm_forward / lstm_backward one layer at a time).
//
// Times what dev.lstm4j.bench's LstmBenchmark times:
//   inference = the forward_inference of every layer;
//   training  = the forward_training of every layer (keeping workspaces), then lstm_backward of every layer in
//               reverse order, computing diff_src_layer, diff_src_iter(_c), diff_weights_layer/iter and diff_bias.
// Primitives and memories are created once per (workload, mode); only execute() (+ stream.wait()) and, in training,
// the zeroing of the weight gradients are timed. Written against the oneDNN 2.6 C++ API (dnnl.hpp).
//
// Build and run through benchmarks/onednn/run; see benchmarks/onednn/README.md.

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;
using dims = memory::dims;

namespace {

// ---------------------------------------------------------------------------------------------------------------
// Workloads: exactly dev.lstm4j.bench.Workload (name, layers, I, H, T, B, bidirectional); no peephole variants.

struct Workload {
    std::string name;
    int layers, input, hidden, steps, batch;
    bool bidirectional;

    int dirs() const { return bidirectional ? 2 : 1; }
    // Input width of layer l: I for the first layer, D*H above it.
    int layer_input(int l) const { return l == 0 ? input : dirs() * hidden; }

    // Workload.forwardFlops(): 2 * 4H * (I_l + H) * B * T per layer and direction; pointwise work not counted.
    double forward_flops() const {
        double total = 0;
        for (int l = 0; l < layers; l++)
            total += dirs() * 2.0 * 4 * hidden * (layer_input(l) + hidden) * double(batch) * steps;
        return total;
    }
};

const std::vector<Workload> kWorkloads = {
        {"seed-mnist", 1, 28, 128, 28, 128, false},
        {"seed-mnist-bidirectional", 1, 28, 128, 28, 128, true},
        {"ptb-small", 2, 200, 200, 20, 20, false},
        {"ptb-medium", 2, 650, 650, 35, 20, false},
        {"ptb-medium-bidirectional", 2, 650, 650, 35, 20, true},
        {"ptb-large", 2, 1500, 1500, 35, 20, false},
        {"large-batch", 1, 256, 512, 100, 64, false},
};

const Workload &workload_by_name(const std::string &name) {
    for (const auto &w : kWorkloads)
        if (w.name == name) return w;
    std::string known;
    for (const auto &w : kWorkloads) known += (known.empty() ? "" : ", ") + w.name;
    throw std::invalid_argument("unknown workload '" + name + "'; expected one of: " + known + " (or all)");
}

// ---------------------------------------------------------------------------------------------------------------
// Memory helpers. Only plain (tnc / ldnc / ldigo / ldgo) user memories are filled from the host; memories in
// oneDNN's own formats are produced by reorders.

memory::desc plain(const dims &d, tag t) { return memory::desc(d, dt::f32, t); }

void fill(memory &m, float value) {
    auto *p = static_cast<float *>(m.get_data_handle());
    std::fill(p, p + m.get_desc().get_size() / sizeof(float), value);
}

void fill_uniform(memory &m, float bound, std::mt19937 &gen) {
    std::uniform_real_distribution<float> dist(-bound, bound);
    auto *p = static_cast<float *>(m.get_data_handle());
    size_t n = m.get_desc().get_size() / sizeof(float);
    for (size_t i = 0; i < n; i++) p[i] = dist(gen);
}

// Zeroes a buffer with all OpenMP threads, as a framework's parallel zero-fill of a fresh gradient tensor would.
void zero_parallel(const memory &m) {
    auto *p = static_cast<char *>(m.get_data_handle());
    const size_t size = m.get_desc().get_size();
#pragma omp parallel
    {
        const size_t nthr = omp_get_num_threads(), ithr = omp_get_thread_num();
        const size_t chunk = (size + nthr - 1) / nthr;
        const size_t begin = std::min(size, ithr * chunk), end = std::min(size, begin + chunk);
        std::memset(p + begin, 0, end - begin);
    }
}

// Converts a user memory into the layout a primitive descriptor asked for (once, outside the timed region).
memory reorder_to(memory user, const memory::desc &want, const engine &eng, stream &s) {
    if (user.get_desc() == want) return user;
    memory out(want, eng);
    reorder(user, out).execute(s, user, out);
    s.wait();
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// One LSTM layer = one primitive (forward) + one primitive (backward, training only), as PyTorch builds them:
// layer 0 sees input width I, the layers above D*H, so each needs its own primitive.

struct Layer {
    lstm_forward fwd;
    std::unordered_map<int, memory> fwd_args;
    lstm_backward bwd;
    std::unordered_map<int, memory> bwd_args;
    std::vector<memory> grads;  // diff weights / bias: oneDNN accumulates into them, so zeroed before each backward
};

struct Model {
    std::vector<Layer> layers;
    bool training = false;
    std::string fwd_impl, bwd_impl;  // implementation names oneDNN picked (layer 0)

    // One timed step. The per-layer activations chain through shared memories (set up in build()).
    void step(stream &s) {
        for (auto &l : layers) l.fwd.execute(s, l.fwd_args);
        if (training) {
            for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
                for (auto &g : it->grads) zero_parallel(g);
                it->bwd.execute(s, it->bwd_args);
            }
        }
        s.wait();
    }
};

Model build(const Workload &w, bool training, const engine &eng, stream &s, std::mt19937 &gen) {
    const memory::dim T = w.steps, B = w.batch, H = w.hidden, D = w.dirs(), G = 4;  // G: LSTM gates
    const auto direction = w.bidirectional ? rnn_direction::bidirectional_concat : rnn_direction::unidirectional_left2right;
    const auto fwd_kind = training ? prop_kind::forward_training : prop_kind::forward_inference;
    const float weight_bound = 1.0f / std::sqrt(float(H));  // PyTorch's LSTM init: U(-1/sqrt(H), 1/sqrt(H))

    Model model;
    model.training = training;

    // Layer 0's input x, random; every layer's output feeds the next one's src_layer.
    memory src_layer(plain({T, B, w.input}, tag::tnc), eng);  // [T, B, I]
    fill_uniform(src_layer, 1.0f, gen);
    // Gradient of the loss w.r.t. the top layer's output: all ones, as benchmarks/pytorch/lstm_bench.py passes.
    memory top_diff_dst;

    for (int l = 0; l < w.layers; l++) {
        const memory::dim I = w.layer_input(l);
        Layer layer;

        // Descriptors in the framework's layouts; weights left to oneDNN (format_tag::any).
        auto src_layer_md = plain({T, B, I}, tag::tnc);            // [T, B, I_l]
        auto iter_md = plain({1, D, B, H}, tag::ldnc);             // [L=1, D, B, H]: h0, c0, hT, cT
        auto wl_any = memory::desc({1, D, I, G, H}, dt::f32, tag::any);  // [L=1, D, I_l, 4, H]
        auto wi_any = memory::desc({1, D, H, G, H}, dt::f32, tag::any);  // [L=1, D, H, 4, H]
        auto bias_md = plain({1, D, G, H}, tag::ldgo);             // [L=1, D, 4, H]
        auto dst_layer_md = plain({T, B, D * H}, tag::tnc);        // [T, B, D*H]

        lstm_forward::desc fwd_desc(fwd_kind, direction, src_layer_md, iter_md, iter_md, wl_any, wi_any, bias_md,
                dst_layer_md, iter_md, iter_md);
        lstm_forward::primitive_desc fwd_pd(fwd_desc, eng);
        layer.fwd = lstm_forward(fwd_pd);

        // Weights as a framework holds them (ldigo), reordered once into the forward primitive's format: what a
        // framework does with weights it caches between calls.
        memory wl_user(plain({1, D, I, G, H}, tag::ldigo), eng);  // [L=1, D, I_l, 4, H]
        memory wi_user(plain({1, D, H, G, H}, tag::ldigo), eng);  // [L=1, D, H, 4, H]
        memory bias(bias_md, eng);                                 // [L=1, D, 4, H]
        fill_uniform(wl_user, weight_bound, gen);
        fill_uniform(wi_user, weight_bound, gen);
        fill_uniform(bias, weight_bound, gen);

        memory h0(iter_md, eng), c0(iter_md, eng);  // [1, D, B, H], zeros
        fill(h0, 0.0f);
        fill(c0, 0.0f);
        memory dst_layer(dst_layer_md, eng);          // [T, B, D*H]
        memory hT(iter_md, eng), cT(iter_md, eng);    // [1, D, B, H]

        layer.fwd_args = {
                {DNNL_ARG_SRC_LAYER, src_layer},
                {DNNL_ARG_SRC_ITER, h0},
                {DNNL_ARG_SRC_ITER_C, c0},
                {DNNL_ARG_WEIGHTS_LAYER, reorder_to(wl_user, fwd_pd.weights_layer_desc(), eng, s)},
                {DNNL_ARG_WEIGHTS_ITER, reorder_to(wi_user, fwd_pd.weights_iter_desc(), eng, s)},
                {DNNL_ARG_BIAS, bias},
                {DNNL_ARG_DST_LAYER, dst_layer},
                {DNNL_ARG_DST_ITER, hT},
                {DNNL_ARG_DST_ITER_C, cT},
        };
        if (l == 0) model.fwd_impl = fwd_pd.impl_info_str();

        if (training) {
            // The workspace keeps the forward's gates and states for the backward pass.
            memory workspace(fwd_pd.workspace_desc(), eng);
            layer.fwd_args[DNNL_ARG_WORKSPACE] = workspace;

            lstm_backward::desc bwd_desc(prop_kind::backward, direction,
                    src_layer_md, iter_md, iter_md, wl_any, wi_any, bias_md, dst_layer_md, iter_md, iter_md,
                    src_layer_md,                                                   // diff_src_layer [T, B, I_l]
                    iter_md, iter_md,                                               // diff h0, c0 [1, D, B, H]
                    memory::desc({1, D, I, G, H}, dt::f32, tag::any),               // diff W_layer [1, D, I_l, 4, H]
                    memory::desc({1, D, H, G, H}, dt::f32, tag::any),               // diff W_iter [1, D, H, 4, H]
                    memory::desc({1, D, G, H}, dt::f32, tag::any),                  // diff bias [1, D, 4, H]
                    dst_layer_md,                                                   // diff_dst_layer [T, B, D*H]
                    iter_md, iter_md);                                              // diff hT, cT [1, D, B, H]
            lstm_backward::primitive_desc bwd_pd(bwd_desc, eng, fwd_pd);
            layer.bwd = lstm_backward(bwd_pd);

            // The backward pass wants the weights in its own (transposed) layout; like the forward copies they are
            // prepared once, as a framework caching both would.
            memory diff_src_layer(src_layer_md, eng);                 // [T, B, I_l]
            memory diff_h0(iter_md, eng), diff_c0(iter_md, eng);      // [1, D, B, H]
            memory diff_hT(iter_md, eng), diff_cT(iter_md, eng);      // [1, D, B, H], zeros: y is the only output used
            fill(diff_hT, 0.0f);
            fill(diff_cT, 0.0f);
            memory diff_wl(bwd_pd.diff_weights_layer_desc(), eng);   // [1, D, I_l, 4, H], backward's format
            memory diff_wi(bwd_pd.diff_weights_iter_desc(), eng);    // [1, D, H, 4, H], backward's format
            memory diff_bias(bwd_pd.diff_bias_desc(), eng);          // [1, D, 4, H]
            layer.grads = {diff_wl, diff_wi, diff_bias};

            // the forward's arguments (workspace included), with the backward's weight copies and the gradients
            layer.bwd_args = layer.fwd_args;
            layer.bwd_args[DNNL_ARG_WEIGHTS_LAYER] = reorder_to(wl_user, bwd_pd.weights_layer_desc(), eng, s);
            layer.bwd_args[DNNL_ARG_WEIGHTS_ITER] = reorder_to(wi_user, bwd_pd.weights_iter_desc(), eng, s);
            layer.bwd_args.insert({
                    {DNNL_ARG_DIFF_SRC_LAYER, diff_src_layer},
                    {DNNL_ARG_DIFF_SRC_ITER, diff_h0},
                    {DNNL_ARG_DIFF_SRC_ITER_C, diff_c0},
                    {DNNL_ARG_DIFF_WEIGHTS_LAYER, diff_wl},
                    {DNNL_ARG_DIFF_WEIGHTS_ITER, diff_wi},
                    {DNNL_ARG_DIFF_BIAS, diff_bias},
                    // DIFF_DST_LAYER is linked below, once the layer above exists.
                    {DNNL_ARG_DIFF_DST_ITER, diff_hT},
                    {DNNL_ARG_DIFF_DST_ITER_C, diff_cT},
            });
            if (l == 0) model.bwd_impl = bwd_pd.impl_info_str();
        }

        model.layers.push_back(std::move(layer));
        src_layer = dst_layer;  // the next layer reads this layer's output
    }

    if (training) {
        // Chain the gradients: layer l's diff_dst_layer is layer l+1's diff_src_layer; the top one is all ones.
        for (int l = 0; l + 1 < w.layers; l++)
            model.layers[l].bwd_args[DNNL_ARG_DIFF_DST_LAYER] =
                    model.layers[l + 1].bwd_args.at(DNNL_ARG_DIFF_SRC_LAYER);
        top_diff_dst = memory(plain({T, B, D * H}, tag::tnc), eng);  // [T, B, D*H]
        fill(top_diff_dst, 1.0f);
        model.layers.back().bwd_args[DNNL_ARG_DIFF_DST_LAYER] = top_diff_dst;
    }
    return model;
}

// ---------------------------------------------------------------------------------------------------------------
// Timing and reporting.

using Clock = std::chrono::steady_clock;

struct Result {
    double median_ms, min_ms;
    size_t samples;
};

// Untimed calls for warmup_s, then timed calls for at least measure_s and at least 5 samples.
Result time_case(Model &model, stream &s, double warmup_s, double measure_s) {
    auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
    auto start = Clock::now();
    do model.step(s);
    while (seconds_since(start) < warmup_s);

    std::vector<double> samples;
    start = Clock::now();
    while (seconds_since(start) < measure_s || samples.size() < 5) {
        auto t0 = Clock::now();
        model.step(s);
        samples.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(samples.begin(), samples.end());
    size_t n = samples.size();
    double median = n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
    return {median, samples.front(), n};
}

const char *isa_name(cpu_isa isa) {
    switch (isa) {
        case cpu_isa::sse41: return "sse41";
        case cpu_isa::avx: return "avx";
        case cpu_isa::avx2: return "avx2";
        case cpu_isa::avx2_vnni: return "avx2_vnni";
        case cpu_isa::avx512_mic: return "avx512_mic";
        case cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
        case cpu_isa::avx512_core: return "avx512_core";
        case cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
        case cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
        case cpu_isa::avx512_core_amx: return "avx512_core_amx";
        default: return "all/unknown";
    }
}

std::vector<std::string> split(const std::string &s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');)
        if (!item.empty()) out.push_back(item);
    return out;
}

const char *kUsage =
        "usage: lstm_bench [--workloads all|NAME,...] [--modes inference,training] [--warmup S] [--seconds S]\n"
        "                  [--csv FILE]\n"
        "threads come from OMP_NUM_THREADS (benchmarks/onednn/run sets it from --threads)\n";

struct Options {
    std::vector<std::string> workloads = {"seed-mnist", "ptb-small", "ptb-medium", "large-batch"};
    std::vector<std::string> modes = {"inference", "training"};
    double warmup = 3, seconds = 6;
    std::string csv;
};

Options parse(int argc, char **argv) {
    Options o;
    for (int i = 1; i < argc; i++) {
        std::string arg = argv[i], value;
        if (arg == "-h" || arg == "--help") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        }
        if (auto eq = arg.find('='); eq != std::string::npos) {  // --name=value
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            throw std::invalid_argument(arg + " needs a value");
        }
        if (arg == "--workloads") {
            o.workloads.clear();
            if (value == "all")
                for (const auto &w : kWorkloads) o.workloads.push_back(w.name);
            else
                o.workloads = split(value);
        } else if (arg == "--modes") {
            o.modes = split(value);
            for (const auto &m : o.modes)
                if (m != "inference" && m != "training")
                    throw std::invalid_argument("mode: expected inference or training, got '" + m + "'");
        } else if (arg == "--warmup") {
            o.warmup = std::stod(value);
        } else if (arg == "--seconds") {
            o.seconds = std::stod(value);
        } else if (arg == "--csv") {
            o.csv = value;
        } else {
            throw std::invalid_argument("unknown option " + arg + "\n" + kUsage);
        }
    }
    for (const auto &name : o.workloads) workload_by_name(name);  // fail before any work on a bad name
    return o;
}

}  // namespace

int main(int argc, char **argv) try {
    Options opt = parse(argc, argv);

    const dnnl_version_t *v = dnnl_version();
    char version[32];
    std::snprintf(version, sizeof version, "%d.%d.%d", v->major, v->minor, v->patch);
    const int threads = omp_get_max_threads();

    engine eng(engine::kind::cpu, 0);
    stream s(eng);
    std::printf("oneDNN %s (hash %s), effective ISA %s, %d OpenMP threads\n", version, v->hash,
            isa_name(get_effective_cpu_isa()), threads);
    std::printf("%-26s %-10s %10s %9s %8s %5s  %s\n", "workload", "mode", "median ms", "min ms", "GFLOP/s", "n",
            "implementation (fwd / bwd)");

    std::ofstream csv;
    if (!opt.csv.empty()) {
        csv.open(opt.csv);
        if (!csv) throw std::runtime_error("cannot write " + opt.csv);
        csv << "workload,mode,threads,median_ms,min_ms,gflops,samples,onednn_version\n";
    }

    std::mt19937 gen(1);
    for (const auto &name : opt.workloads) {
        const Workload &w = workload_by_name(name);
        for (const auto &mode : opt.modes) {
            const bool training = mode == "training";
            Model model = build(w, training, eng, s, gen);
            Result r = time_case(model, s, opt.warmup, opt.seconds);
            const double flops = w.forward_flops() * (training ? 3 : 1);
            const double gflops = flops / (r.median_ms * 1e-3) / 1e9;
            std::string impl = model.fwd_impl + (training ? " / " + model.bwd_impl : "");
            std::printf("%-26s %-10s %10.3f %9.3f %8.1f %5zu  %s\n", w.name.c_str(), mode.c_str(), r.median_ms,
                    r.min_ms, gflops, r.samples, impl.c_str());
            std::fflush(stdout);
            if (csv) {
                char row[256];
                std::snprintf(row, sizeof row, "%s,%s,%d,%.4f,%.4f,%.2f,%zu,%s\n", w.name.c_str(), mode.c_str(),
                        threads, r.median_ms, r.min_ms, gflops, r.samples, version);
                csv << row;
            }
        }
    }
    return 0;
} catch (const dnnl::error &e) {
    std::fprintf(stderr, "lstm_bench: oneDNN error (status %d): %s\n", int(e.status), e.what());
    return 1;
} catch (const std::exception &e) {
    std::fprintf(stderr, "lstm_bench: %s\n", e.what());
    return 2;
}
