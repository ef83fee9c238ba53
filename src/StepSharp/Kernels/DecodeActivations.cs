using StepSharp.Kernels.Dot;
using StepSharp.Tensors;

namespace StepSharp.Kernels;

/// <summary>
/// One decode vector rounded to int8 once for the many matrices that read it: a MoE layer's selected experts' gate and
/// up matrices and its shared expert all take the same normed input, which <see cref="MatMul"/> would otherwise
/// quantize again for each of them (17 times a layer on the mini model: 1.7 % of a one-thread decode step, and serial
/// work the other threads wait for). <see cref="Prepare"/> quantizes for the kind of int8 blocks a weight type's kernels
/// take (Q8_0 or Q8_K, plus the permuted copy the interleaved layouts read); after that, any number of threads may run
/// <see cref="MatMul.Compute(KernelThreadPool, in TensorView, long, int, DecodeActivations, Span{float})"/> with it at
/// once, as it is only read. Buffers are pinned and grow only when the vector does: nothing is allocated per token.
/// </summary>
public sealed unsafe class DecodeActivations
{
    private float[]? _values;
    private int _length = -1;
    private Int8Copy _q8_0, _q8K;

    /// <summary>The float vector set by the last <see cref="Prepare"/>.</summary>
    public ReadOnlySpan<float> Values => _values is null ? default : _values.AsSpan(0, _length);

    /// <summary>
    /// Takes a copy of <paramref name="x"/> and rounds it to the int8 blocks that <paramref name="weightTypes"/>' kernels
    /// read (none when the thread's <see cref="ActivationQuantization"/> mode keeps decode activations in float).
    /// </summary>
    public void Prepare(ReadOnlySpan<float> x, params ReadOnlySpan<GgmlType> weightTypes)
    {
        PinnedArrays.Grow(ref _values, x.Length);
        x.CopyTo(_values);
        _length = x.Length;
        _q8_0.Ready = _q8K.Ready = false;
        if (!ActivationQuantization.AppliesTo(tiled: false)) return;
        foreach (GgmlType type in weightTypes)
        {
            int blocks = MatMul.Int8Blocks(type);
            if (blocks == 0 || x.Length % blocks != 0) continue;
            ref Int8Copy copy = ref blocks == 32 ? ref _q8_0 : ref _q8K;
            if (!copy.Ready) copy.Fill(_values!, _length, blocks);
            if (MatMul.TakesPermutedActivations(type) && !copy.HasPermuted) copy.Permute(_length);
        }
    }

    /// <summary>The int8 copy for <paramref name="type"/>'s kernels, if <see cref="Prepare"/> made one (and its permuted form when the layout needs it).</summary>
    internal bool TryGet(GgmlType type, out sbyte* q, out sbyte* permuted, out float* scales, out short* sums)
    {
        int blocks = MatMul.Int8Blocks(type);
        ref Int8Copy copy = ref blocks == 32 ? ref _q8_0 : ref _q8K;
        bool ok = blocks != 0 && copy.Ready && (copy.HasPermuted || !MatMul.TakesPermutedActivations(type));
        q = ok ? copy.Q : null;
        permuted = ok && copy.HasPermuted ? copy.Permuted : null;
        scales = ok ? copy.Scales : null;
        sums = ok ? copy.Sums : null;
        return ok;
    }

    /// <summary>One kind of int8 blocks: the values, their scales, Q8_K's 16-value sums and the interleaved layouts' permuted values.</summary>
    private struct Int8Copy
    {
        private sbyte[]? _q, _permuted;
        private float[]? _scales;
        private short[]? _sums;
        public bool Ready, HasPermuted;

        public readonly sbyte* Q => PinnedArrays.Pointer(_q!);
        public readonly sbyte* Permuted => PinnedArrays.Pointer(_permuted!);
        public readonly float* Scales => PinnedArrays.Pointer(_scales!);
        public readonly short* Sums => _sums is null ? null : PinnedArrays.Pointer(_sums);

        public void Fill(float[] values, int n, int blocks)
        {
            PinnedArrays.Grow(ref _q, n);
            PinnedArrays.Grow(ref _scales, n / blocks);
            if (blocks != 32) PinnedArrays.Grow(ref _sums, n / Q8KActivations.SumsPerBlock);
            fixed (float* x = values)
            {
                if (blocks == 32) Q8Activations.Quantize(x, n, Q, Scales);
                else Q8KActivations.Quantize(x, n, Q, Scales, Sums);
            }
            Ready = true;
            HasPermuted = false;
        }

        public void Permute(int n)
        {
            PinnedArrays.Grow(ref _permuted, n);
            Q4_KInterleavedQ8Dot.PermuteActivations(Q, Permuted, n);
            HasPermuted = true;
        }
    }
}
