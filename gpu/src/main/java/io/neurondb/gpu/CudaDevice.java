package io.neurondb.gpu;

import static io.neurondb.gpu.CudaFailure.checkDriver;

import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/**
 * One GPU with the kernels of {@code kernels.cu} loaded: the device's primary context (the
 * one the CUDA runtime would use too, so other CUDA users in the process share rather than
 * duplicate it), the NVRTC-compiled module and its three functions.
 *
 * <p>The context is made current only around each piece of work ({@link #inContext}), so any
 * thread may call in; callers serialise the work themselves.
 */
final class CudaDevice implements AutoCloseable {

    private final int ordinal;
    private final String deviceName;
    private final int computeCapability;
    private final CUdevice device;
    private final CUcontext context;
    private final CUmodule module;
    final CUfunction batchedDistances;
    final CUfunction segmentTopK;
    final CUfunction nearestUpdate;
    private boolean closed;

    private CudaDevice(int ordinal, String deviceName, int computeCapability, CUdevice device,
                       CUcontext context, CUmodule module) {
        this.ordinal = ordinal;
        this.deviceName = deviceName;
        this.computeCapability = computeCapability;
        this.device = device;
        this.context = context;
        this.module = module;
        this.batchedDistances = function(module, KernelSource.BATCHED_DISTANCES);
        this.segmentTopK = function(module, KernelSource.SEGMENT_TOP_K);
        this.nearestUpdate = function(module, KernelSource.NEAREST_UPDATE);
    }

    /** Initialises the driver, compiles the kernels for device {@code ordinal} and loads them. */
    static CudaDevice open(int ordinal) {
        checkDriver(JCudaDriver.cuInit(0), "cuInit");
        CUdevice device = new CUdevice();
        checkDriver(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        int capability = computeCapability(device);
        String name = deviceName(device);

        // Compile before touching a context: NVRTC needs none, and a missing libnvrtc is the
        // likeliest failure on a machine that has a driver.
        int arch = NvrtcCompiler.targetArchitecture(NvrtcCompiler.supportedArchitectures(), capability);
        String ptx = NvrtcCompiler.compileToPtx(KernelSource.load(), KernelSource.RESOURCE, arch);

        CUcontext context = new CUcontext();
        checkDriver(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        boolean loaded = false;
        checkDriver(JCudaDriver.cuCtxPushCurrent(context), "cuCtxPushCurrent");
        try {
            CUmodule module = new CUmodule();
            checkDriver(JCudaDriver.cuModuleLoadData(module, ptx), "cuModuleLoadData");
            CudaDevice opened = new CudaDevice(ordinal, name, capability, device, context, module);
            loaded = true;
            return opened;
        } finally {
            JCudaDriver.cuCtxPopCurrent(new CUcontext());
            if (!loaded) {
                JCudaDriver.cuDevicePrimaryCtxRelease(device);
            }
        }
    }

    int ordinal() {
        return ordinal;
    }

    String deviceName() {
        return deviceName;
    }

    /** {@code major * 10 + minor}, e.g. 86. */
    int computeCapability() {
        return computeCapability;
    }

    /** Device memory free right now, in bytes; call within {@link #inContext}. */
    long freeMemoryBytes() {
        long[] free = new long[1];
        long[] total = new long[1];
        checkDriver(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
        return free[0];
    }

    /** Runs {@code work} with this device's context current on the calling thread. */
    <T> T inContext(Supplier<T> work) {
        if (closed) {
            throw new IllegalStateException("CUDA device " + ordinal + " is closed");
        }
        checkDriver(JCudaDriver.cuCtxPushCurrent(context), "cuCtxPushCurrent");
        try {
            return work.get();
        } finally {
            JCudaDriver.cuCtxPopCurrent(new CUcontext());
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        inContext(() -> JCudaDriver.cuModuleUnload(module));
        closed = true;
        JCudaDriver.cuDevicePrimaryCtxRelease(device);
    }

    private static CUfunction function(CUmodule module, String name) {
        CUfunction function = new CUfunction();
        checkDriver(JCudaDriver.cuModuleGetFunction(function, module, name), "cuModuleGetFunction(" + name + ")");
        return function;
    }

    private static int computeCapability(CUdevice device) {
        int[] major = new int[1];
        int[] minor = new int[1];
        checkDriver(JCudaDriver.cuDeviceGetAttribute(major,
                CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device), "cuDeviceGetAttribute");
        checkDriver(JCudaDriver.cuDeviceGetAttribute(minor,
                CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device), "cuDeviceGetAttribute");
        return major[0] * 10 + minor[0];
    }

    private static String deviceName(CUdevice device) {
        byte[] name = new byte[256];
        checkDriver(JCudaDriver.cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
        int length = 0;
        while (length < name.length && name[length] != 0) {
            length++;
        }
        return new String(name, 0, length, StandardCharsets.US_ASCII);
    }
}
