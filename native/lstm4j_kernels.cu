// The C ABI the JVM calls (dev.lstm4j.cuda.kernels.NativeKernels): plain arguments (device pointers as integers,
// sizes, a stream handle) and an int status, 0 on success. The same file builds with nvcc (GPU) and with
// g++ -x c++ through the host emulation header; both libraries export exactly these symbols.
//
// Statuses: 0 success; 1..999 the CUDA runtime's cudaError_t of the launch (GPU build); LSTM4J_BAD_ARGUMENT for
// arguments the launcher refuses before launching anything.
#include "lstm4j_platform.h"

#include "../kernels/lstm_pointwise.cuh"
#include "../kernels/sequence_ops.cuh"

#define LSTM4J_API extern "C" __attribute__((visibility("default")))

namespace {

constexpr int LSTM4J_BAD_ARGUMENT = 10001;
constexpr int kBlock = 256;
constexpr long long kMaxGrid = 65535;

unsigned int grid_for(long long n) {
    long long blocks = (n + kBlock - 1) / kBlock;
    return (unsigned int)(blocks < kMaxGrid ? blocks : kMaxGrid);
}

int finish_launch() { return (int)lstm4j_last_launch_error(); }

template <typename T>
inline T* ptr(long long address) { return reinterpret_cast<T*>(address); }

lstm4j::CellConfig cell_config(int f_kind, float f_alpha, float f_beta, int g_kind, float g_alpha, float g_beta,
                               int h_kind, float h_alpha, float h_beta, int input_forget, int has_clip, float clip,
                               int has_cell_clip, float cell_clip) {
    lstm4j::CellConfig cfg;
    cfg.acts.f = {f_kind, f_alpha, f_beta};
    cfg.acts.g = {g_kind, g_alpha, g_beta};
    cfg.acts.h = {h_kind, h_alpha, h_beta};
    cfg.inputForget = input_forget;
    cfg.hasClip = has_clip;
    cfg.clip = clip;
    cfg.hasCellClip = has_cell_clip;
    cfg.cellClip = cell_clip;
    return cfg;
}

bool valid_kind(int kind) { return kind >= lstm4j::ACT_SIGMOID && kind <= lstm4j::ACT_SOFTPLUS; }

bool standard_acts(const lstm4j::CellConfig& cfg) {
    return cfg.acts.f.kind == lstm4j::ACT_SIGMOID && cfg.acts.g.kind == lstm4j::ACT_TANH &&
           cfg.acts.h.kind == lstm4j::ACT_TANH;
}

}  // namespace

LSTM4J_API const char* lstm4j_build_info() {
    return LSTM4J_BUILD;
}

LSTM4J_API const char* lstm4j_status_text(int status) {
    if (status == 0) return "success";
    if (status == LSTM4J_BAD_ARGUMENT) return "bad argument (refused by the launcher before launching)";
    return lstm4j_runtime_status_text(status);
}

// How many devices the library's own CUDA runtime sees: a check that this build can run here at all (a library
// built with a newer CUDA than the driver supports answers cudaErrorInsufficientDriver).
LSTM4J_API int lstm4j_device_count(long long count_out) {
    if (!count_out) return LSTM4J_BAD_ARGUMENT;
    return lstm4j_runtime_device_count(ptr<int>(count_out));
}

LSTM4J_API int lstm4j_forward_pointwise(long long stream, int batch, int hidden, long long gx, long long gh,
                                        long long bias_ih, long long bias_hh, long long peep, long long c_prev,
                                        long long h_prev, long long lengths, int step, int f_kind, float f_alpha,
                                        float f_beta, int g_kind, float g_alpha, float g_beta, int h_kind,
                                        float h_alpha, float h_beta, int input_forget, int has_clip, float clip,
                                        int has_cell_clip, float cell_clip, long long c_out, long long m_out,
                                        long long h_out, long long pre_out, long long gates_out,
                                        long long craw_out) {
    if (batch < 0 || hidden < 0 || !gx || !gh || !bias_ih || !bias_hh || !c_prev || !lengths || !c_out || !m_out ||
        (h_out && !h_prev) || !valid_kind(f_kind) || !valid_kind(g_kind) || !valid_kind(h_kind)) {
        return LSTM4J_BAD_ARGUMENT;
    }
    long long n = (long long)batch * hidden;
    if (n == 0) return 0;
    lstm4j::CellConfig cfg = cell_config(f_kind, f_alpha, f_beta, g_kind, g_alpha, g_beta, h_kind, h_alpha, h_beta,
                                         input_forget, has_clip, clip, has_cell_clip, cell_clip);
    if (standard_acts(cfg)) {
        LSTM4J_LAUNCH(lstm4j::lstm_forward_pointwise<true>, grid_for(n), kBlock, stream, batch, hidden,
                      ptr<const float>(gx), ptr<const float>(gh), ptr<const float>(bias_ih),
                      ptr<const float>(bias_hh), ptr<const float>(peep), ptr<const float>(c_prev),
                      ptr<const float>(h_prev), ptr<const int>(lengths), step, cfg, ptr<float>(c_out),
                      ptr<float>(m_out), ptr<float>(h_out), ptr<float>(pre_out), ptr<float>(gates_out),
                      ptr<float>(craw_out));
    } else {
        LSTM4J_LAUNCH(lstm4j::lstm_forward_pointwise<false>, grid_for(n), kBlock, stream, batch, hidden,
                      ptr<const float>(gx), ptr<const float>(gh), ptr<const float>(bias_ih),
                      ptr<const float>(bias_hh), ptr<const float>(peep), ptr<const float>(c_prev),
                      ptr<const float>(h_prev), ptr<const int>(lengths), step, cfg, ptr<float>(c_out),
                      ptr<float>(m_out), ptr<float>(h_out), ptr<float>(pre_out), ptr<float>(gates_out),
                      ptr<float>(craw_out));
    }
    return finish_launch();
}

LSTM4J_API int lstm4j_backward_pointwise(long long stream, int batch, int hidden, long long dm, long long dc,
                                         long long pre, long long gates, long long craw, long long c_prev,
                                         long long c_cur, long long peep, long long lengths, int step, int f_kind,
                                         float f_alpha, float f_beta, int g_kind, float g_alpha, float g_beta,
                                         int h_kind, float h_alpha, float h_beta, int input_forget, int has_clip,
                                         float clip, int has_cell_clip, float cell_clip, long long da_out,
                                         long long dpeep_out) {
    if (batch < 0 || hidden < 0 || !dm || !dc || !pre || !gates || !craw || !c_prev || !c_cur || !lengths ||
        !da_out || (dpeep_out && !peep) || !valid_kind(f_kind) || !valid_kind(g_kind) || !valid_kind(h_kind)) {
        return LSTM4J_BAD_ARGUMENT;
    }
    long long n = (long long)batch * hidden;
    if (n == 0) return 0;
    lstm4j::CellConfig cfg = cell_config(f_kind, f_alpha, f_beta, g_kind, g_alpha, g_beta, h_kind, h_alpha, h_beta,
                                         input_forget, has_clip, clip, has_cell_clip, cell_clip);
    if (standard_acts(cfg)) {
        LSTM4J_LAUNCH(lstm4j::lstm_backward_pointwise<true>, grid_for(n), kBlock, stream, batch, hidden,
                      ptr<const float>(dm), ptr<float>(dc), ptr<const float>(pre), ptr<const float>(gates),
                      ptr<const float>(craw), ptr<const float>(c_prev), ptr<const float>(c_cur),
                      ptr<const float>(peep), ptr<const int>(lengths), step, cfg, ptr<float>(da_out),
                      ptr<float>(dpeep_out));
    } else {
        LSTM4J_LAUNCH(lstm4j::lstm_backward_pointwise<false>, grid_for(n), kBlock, stream, batch, hidden,
                      ptr<const float>(dm), ptr<float>(dc), ptr<const float>(pre), ptr<const float>(gates),
                      ptr<const float>(craw), ptr<const float>(c_prev), ptr<const float>(c_cur),
                      ptr<const float>(peep), ptr<const int>(lengths), step, cfg, ptr<float>(da_out),
                      ptr<float>(dpeep_out));
    }
    return finish_launch();
}

LSTM4J_API int lstm4j_seq_copy(long long stream, int steps, int batch, int width, long long src, long long src_t,
                               long long src_b, long long dst, long long dst_t, long long dst_b, long long lengths,
                               int reverse, int accumulate) {
    if (steps < 0 || batch < 0 || width < 0 || !src || !dst) return LSTM4J_BAD_ARGUMENT;
    long long n = (long long)steps * batch * width;
    if (n == 0) return 0;
    LSTM4J_LAUNCH(lstm4j::seq_copy, grid_for(n), kBlock, stream, steps, batch, width, ptr<const float>(src), src_t,
                  src_b, ptr<float>(dst), dst_t, dst_b, ptr<const int>(lengths), reverse, accumulate);
    return finish_launch();
}

LSTM4J_API int lstm4j_mask_select(long long stream, int batch, int width, long long when_active,
                                  long long when_inactive, long long lengths, int step, long long out) {
    if (batch < 0 || width < 0 || !when_active || !when_inactive || !lengths || !out) return LSTM4J_BAD_ARGUMENT;
    long long n = (long long)batch * width;
    if (n == 0) return 0;
    LSTM4J_LAUNCH(lstm4j::mask_select, grid_for(n), kBlock, stream, batch, width, ptr<const float>(when_active),
                  ptr<const float>(when_inactive), ptr<const int>(lengths), step, ptr<float>(out));
    return finish_launch();
}

LSTM4J_API int lstm4j_add(long long stream, long long n, long long a, long long b, long long out) {
    if (n < 0 || !a || !b || !out) return LSTM4J_BAD_ARGUMENT;
    if (n == 0) return 0;
    LSTM4J_LAUNCH(lstm4j::add_arrays, grid_for(n), kBlock, stream, n, ptr<const float>(a), ptr<const float>(b),
                  ptr<float>(out));
    return finish_launch();
}

LSTM4J_API int lstm4j_multiply(long long stream, long long n, long long a, long long b, long long out) {
    if (n < 0 || !a || !b || !out) return LSTM4J_BAD_ARGUMENT;
    if (n == 0) return 0;
    LSTM4J_LAUNCH(lstm4j::multiply_arrays, grid_for(n), kBlock, stream, n, ptr<const float>(a), ptr<const float>(b),
                  ptr<float>(out));
    return finish_launch();
}

LSTM4J_API int lstm4j_fill(long long stream, long long n, float value, long long out) {
    if (n < 0 || !out) return LSTM4J_BAD_ARGUMENT;
    if (n == 0) return 0;
    LSTM4J_LAUNCH(lstm4j::fill_array, grid_for(n), kBlock, stream, n, value, ptr<float>(out));
    return finish_launch();
}

LSTM4J_API int lstm4j_column_sum(long long stream, int rows, int cols, long long src, long long dst,
                                 int accumulate) {
    if (rows < 0 || cols < 0 || !src || !dst) return LSTM4J_BAD_ARGUMENT;
    if (cols == 0) return 0;
    LSTM4J_LAUNCH(lstm4j::column_sum, grid_for(cols), kBlock, stream, rows, cols, ptr<const float>(src),
                  ptr<float>(dst), accumulate);
    return finish_launch();
}
