// Just enough of CUDA to run kernels.cu on the host, for KernelHostEmulationTest.
//
// Each CUDA thread of a block is a coroutine (ucontext) on one OS thread; __syncthreads()
// yields to a round-robin scheduler, which resumes every other thread of the block before
// any passes the barrier: the barrier's semantics, deterministically and without OS
// threads. Blocks run one after another, so a __shared__ array can simply be a static.
// It checks what the kernels compute, not how fast.
#include <ucontext.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>


struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

static dim3 threadIdx;
static dim3 blockIdx;
static dim3 blockDim;
static dim3 gridDim;

namespace shim {
static ucontext_t scheduler;
static std::vector<ucontext_t> threads;
static std::vector<char> finished;
static size_t running;
static std::function<void()> body;

inline void threadEntry() {
    body();
    finished[running] = 1;  // then uc_link returns to the scheduler
}
}  // namespace shim

inline void __syncthreads() {
    swapcontext(&shim::threads[shim::running], &shim::scheduler);
}

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static

template <typename Kernel, typename... Args>
void launch(Kernel kernel, dim3 grid, dim3 block, Args... args) {
    constexpr size_t stackBytes = 64 * 1024;
    gridDim = grid;
    blockDim = block;
    shim::body = [=] { kernel(args...); };
    const size_t count = (size_t) block.x * block.y;
    std::vector<std::unique_ptr<char[]>> stacks(count);
    for (unsigned by = 0; by < grid.y; ++by) {
        for (unsigned bx = 0; bx < grid.x; ++bx) {
            blockIdx = {bx, by, 1};
            shim::threads.assign(count, ucontext_t{});
            shim::finished.assign(count, 0);
            for (size_t t = 0; t < count; ++t) {
                if (!stacks[t]) stacks[t].reset(new char[stackBytes]);
                getcontext(&shim::threads[t]);
                shim::threads[t].uc_stack.ss_sp = stacks[t].get();
                shim::threads[t].uc_stack.ss_size = stackBytes;
                shim::threads[t].uc_link = &shim::scheduler;
                makecontext(&shim::threads[t], shim::threadEntry, 0);
            }
            bool pending = true;
            while (pending) {
                pending = false;
                for (size_t t = 0; t < count; ++t) {
                    if (shim::finished[t]) continue;
                    shim::running = t;
                    threadIdx = {(unsigned) (t % block.x), (unsigned) (t / block.x), 1};
                    swapcontext(&shim::scheduler, &shim::threads[t]);
                    pending |= !shim::finished[t];
                }
            }
        }
    }
}
