using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// dot(row, x) for the three float row types: F32, and F16 / BF16 widened in registers (spec
/// gguf-format.md §3: fp16 is IEEE binary16, bf16 the top half of an f32). Four accumulators hide
/// the FMA latency: a single chain would run at a quarter of the FMA throughput.
/// </summary>
internal static unsafe class FloatDot
{
    public static float F32(Isa isa, byte* row, float* x, float* xSums, int n) => isa switch
    {
        Isa.Avx512 => Avx512<F32Loader>(row, x, n),
        Isa.Avx2 => Avx2<F32Loader>(row, x, n),
        _ => Scalar<F32Loader>(row, x, n),
    };

    public static float F16(Isa isa, byte* row, float* x, float* xSums, int n) => isa switch
    {
        Isa.Avx512 => Avx512<F16Loader>(row, x, n),
        Isa.Avx2 => Avx2<F16Loader>(row, x, n),
        _ => Scalar<F16Loader>(row, x, n),
    };

    public static float BF16(Isa isa, byte* row, float* x, float* xSums, int n) => isa switch
    {
        Isa.Avx512 => Avx512<BF16Loader>(row, x, n),
        Isa.Avx2 => Avx2<BF16Loader>(row, x, n),
        _ => Scalar<BF16Loader>(row, x, n),
    };

    /// <summary>Reads element i of a row as f32; a struct type parameter so each format gets its own specialised loop.</summary>
    internal interface ILoader
    {
        static abstract Vector512<float> Load16(byte* row, int i);
        static abstract Vector256<float> Load8(byte* row, int i);
        static abstract float Load1(byte* row, int i);
    }

    internal readonly struct F32Loader : ILoader
    {
        public static Vector512<float> Load16(byte* row, int i) => Vector512.Load((float*)row + i);
        public static Vector256<float> Load8(byte* row, int i) => Vector256.Load((float*)row + i);
        public static float Load1(byte* row, int i) => ((float*)row)[i];
    }

    internal readonly struct F16Loader : ILoader
    {
        public static Vector512<float> Load16(byte* row, int i) => Widen.Halves512(Vector256.Load((ushort*)row + i));
        public static Vector256<float> Load8(byte* row, int i) => Widen.Halves256(Vector128.Load((ushort*)row + i));
        public static float Load1(byte* row, int i) => Widen.Half(row + 2 * i);
    }

    internal readonly struct BF16Loader : ILoader
    {
        public static Vector512<float> Load16(byte* row, int i) =>
            (Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)row + i)) << 16).AsSingle();
        public static Vector256<float> Load8(byte* row, int i) =>
            (System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int32(Vector128.Load((ushort*)row + i)).AsUInt32() << 16).AsSingle();
        public static float Load1(byte* row, int i) => Widen.BFloat16(row + 2 * i);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx512<T>(byte* row, float* x, int n) where T : struct, ILoader
    {
        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 64 <= n; i += 64)
        {
            a0 = Vector512.FusedMultiplyAdd(T.Load16(row, i), Vector512.Load(x + i), a0);
            a1 = Vector512.FusedMultiplyAdd(T.Load16(row, i + 16), Vector512.Load(x + i + 16), a1);
            a2 = Vector512.FusedMultiplyAdd(T.Load16(row, i + 32), Vector512.Load(x + i + 32), a2);
            a3 = Vector512.FusedMultiplyAdd(T.Load16(row, i + 48), Vector512.Load(x + i + 48), a3);
        }
        for (; i + 16 <= n; i += 16) a0 = Vector512.FusedMultiplyAdd(T.Load16(row, i), Vector512.Load(x + i), a0);
        float sum = Vector512.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++) sum += T.Load1(row, i) * x[i];
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2<T>(byte* row, float* x, int n) where T : struct, ILoader
    {
        Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            a0 = Vector256.FusedMultiplyAdd(T.Load8(row, i), Vector256.Load(x + i), a0);
            a1 = Vector256.FusedMultiplyAdd(T.Load8(row, i + 8), Vector256.Load(x + i + 8), a1);
            a2 = Vector256.FusedMultiplyAdd(T.Load8(row, i + 16), Vector256.Load(x + i + 16), a2);
            a3 = Vector256.FusedMultiplyAdd(T.Load8(row, i + 24), Vector256.Load(x + i + 24), a3);
        }
        for (; i + 8 <= n; i += 8) a0 = Vector256.FusedMultiplyAdd(T.Load8(row, i), Vector256.Load(x + i), a0);
        float sum = Vector256.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++) sum += T.Load1(row, i) * x[i];
        return sum;
    }

    /// <summary>The plain reference: one value at a time.</summary>
    public static float Scalar<T>(byte* row, float* x, int n) where T : struct, ILoader
    {
        float sum = 0;
        for (int i = 0; i < n; i++) sum += T.Load1(row, i) * x[i];
        return sum;
    }
}
