using StepSharp.Formats;
using StepSharp.Tensors;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Tensors;

/// <summary>
/// Dequantizes the llama-quantize outputs of step35-tiny and checks them against the F32 original with
/// error bounds derived from the quantizers of spec gguf-format.md §5, and against the independent
/// per-value decoder (<see cref="SpecBlockDecoder"/>) bit for bit.
/// </summary>
public class TinyModelDequantizeTests
{
    private static GgufFile OpenTiny(string name) => GgufFile.Open(TestData.Path("step35-tiny", name));

    [Fact]
    public void EveryQ8_0TensorIsWithinTheRoundingBoundOfTheF32Original()
    {
        using var f32 = OpenTiny("step35-tiny-a-f32.gguf");
        using var q8 = OpenTiny("step35-tiny-a-q8_0.gguf");
        int quantized = 0;
        foreach (GgufTensorInfo info in q8.Tensors)
        {
            float[] x = f32.GetTensor(info.Name).ToFloatArray();
            float[] y = q8.GetTensor(info.Name).ToFloatArray();
            Assert.Equal(x.Length, y.Length);
            if (info.Type == GgmlType.F32)
            {
                Assert.Equal(x, y); // kept as F32 by llama-quantize: must be untouched
                continue;
            }
            Assert.Equal(GgmlType.Q8_0, info.Type);
            quantized++;
            for (int b = 0; b < x.Length / 32; b++)
                AssertQ8_0Block(info.Name, b, x.AsSpan(32 * b, 32), y.AsSpan(32 * b, 32));
        }
        Assert.True(quantized >= 90, $"expected most weights to be Q8_0, found {quantized}");
    }

    /// <summary>
    /// Q8_0 (spec §5): d = amax/127, q = round(x/d), |q| ≤ 127, stored fp16(d) = d16, y = q*d16. So
    /// |x - y| ≤ |x - q*d| + |q|*|d - d16| ≤ d/2 + 127*|d - d16|, plus float slack for x*(1/d).
    /// </summary>
    private static void AssertQ8_0Block(string name, int block, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        float amax = 0;
        foreach (float v in x)
            amax = Math.Max(amax, Math.Abs(v));
        double d = amax / 127.0;
        double d16 = (double)(Half)(float)d;
        double bound = d / 2 + 127 * Math.Abs(d - d16) + 1e-6 * amax;
        for (int i = 0; i < 32; i++)
            if (!(Math.Abs(x[i] - y[i]) <= bound)) Assert.Fail($"{name} block {block} value {i}: |{x[i]} - {y[i]}| > {bound}");
    }

    [Fact]
    public void EveryQ4_K_MTensorIsWithinItsTypeBoundOfTheF32Original()
    {
        using var f32 = OpenTiny("step35-tiny-a-f32.gguf");
        using var q = OpenTiny("step35-tiny-a-q4_k_m.gguf");
        var seen = new HashSet<GgmlType>();
        foreach (GgufTensorInfo info in q.Tensors)
        {
            float[] x = f32.GetTensor(info.Name).ToFloatArray();
            TensorView view = q.GetTensor(info.Name);
            float[] y = view.ToFloatArray();
            seen.Add(info.Type);
            int blockValues = GgmlTypeInfo.BlockSize(info.Type), blockBytes = GgmlTypeInfo.BlockBytes(info.Type);
            ReadOnlySpan<byte> bytes = view.Bytes;
            for (int b = 0; b < x.Length / blockValues; b++)
            {
                var xs = x.AsSpan(b * blockValues, blockValues);
                var ys = y.AsSpan(b * blockValues, blockValues);
                ReadOnlySpan<byte> block = bytes.Slice(b * blockBytes, blockBytes);
                string where = $"{info.Name} ({info.Type}) block {b}"; // only formatted once per block
                switch (info.Type)
                {
                    case GgmlType.F32: Assert.True(xs.SequenceEqual(ys), info.Name); break;
                    case GgmlType.Q8_0: AssertQ8_0Block(info.Name, b, xs, ys); break;
                    case GgmlType.Q5_0: AssertQ5_0Block(where, xs, ys); break;
                    case GgmlType.Q6_K: AssertQ6_KBlock(where, block, xs, ys); break;
                    case GgmlType.Q4_K: AssertQ4_KBlock(where, block, xs, ys); break;
                    default: Assert.Fail($"unexpected type {info.Type} in {info.Name}"); break;
                }
            }
            if (info.Type != GgmlType.F32)
                Assert.True(RelativeRmsError(x, y) < MaxRelativeRms(info.Type), $"{info.Name}: relative RMS error {RelativeRmsError(x, y)}");
        }
        Assert.Superset(new HashSet<GgmlType> { GgmlType.F32, GgmlType.Q8_0, GgmlType.Q5_0, GgmlType.Q6_K, GgmlType.Q4_K }, seen);
    }

    /// <summary>
    /// Q5_0 (spec §5): max = the signed value of largest |x|, d = max/-16, q = min(31, trunc(x/d + 16.5)),
    /// y = (q-16)*d16. q-16 rounds x/d to nearest (error ≤ |d|/2) except where it would reach +16, which the
    /// clamp to 31 cuts back to 15: x/d ∈ [15.5, 16] (x of the sign opposite to max) errs by up to |d|.
    /// |q-16| ≤ 16 multiplies the fp16 rounding of d.
    /// </summary>
    private static void AssertQ5_0Block(string where, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        float max = 0;
        foreach (float v in x)
            if (Math.Abs(v) > Math.Abs(max)) max = v;
        double d = Math.Abs(max / 16.0);
        double d16 = Math.Abs((double)(Half)(float)(max / -16.0));
        for (int i = 0; i < 32; i++)
        {
            bool clampCase = max != 0 && x[i] * (-16.0 / max) >= 15.5 - 1e-4;
            double bound = (clampCase ? d : d / 2) + 16 * Math.Abs(d - d16) + 1e-6 * Math.Abs(max);
            if (!(Math.Abs(x[i] - y[i]) <= bound)) Assert.Fail($"{where} value {i}: |{x[i]} - {y[i]}| > {bound}");
        }
    }

    /// <summary>
    /// Q6_K (spec §5): q = clamp(rne(x/D), -32, 31) with D = f32(d)*scale_g exactly as the decoder forms it,
    /// so y = D*q is the point of the 64-level grid {D*k : k ∈ -32..31} nearest to x: |x - y| ≤ |D|/2
    /// inside the grid, or y is the grid end nearest to x.
    /// </summary>
    private static void AssertQ6_KBlock(string where, ReadOnlySpan<byte> block, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        float d = SpecBlockDecoder.H(block, 208);
        for (int i = 0; i < 256; i++)
        {
            float step = d * (sbyte)block[192 + i / 16];
            AssertNearestGridPoint(where, i, x[i], y[i], step, lowest: -32 * step, highest: 31 * step);
        }
    }

    /// <summary>
    /// Q4_K (spec §5 step 3): n = clamp(rne((x + M)/D), 0, 15) with D = f32(d)*sc_j and M = f32(dmin)*m_j,
    /// the decoder's own products, so y = D*n - M is the grid point nearest to x within [-M, 15D - M].
    /// </summary>
    private static void AssertQ4_KBlock(string where, ReadOnlySpan<byte> block, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        float d = SpecBlockDecoder.H(block, 0), dmin = SpecBlockDecoder.H(block, 2);
        for (int i = 0; i < 256; i++)
        {
            var (sc, m) = SpecBlockDecoder.Scale6(block.Slice(4, 12), i / 32);
            float step = d * sc, offset = dmin * m;
            AssertNearestGridPoint(where, i, x[i], y[i], step, lowest: -offset, highest: 15 * step - offset);
        }
    }

    private static void AssertNearestGridPoint(string where, int i, float x, float y, float step, float lowest, float highest)
    {
        double lo = Math.Min(lowest, highest), hi = Math.Max(lowest, highest);
        double slack = 1e-5 * (Math.Abs(x) + Math.Abs(lowest) + Math.Abs(highest));
        double expectedError = x < lo ? lo - x : x > hi ? x - hi : Math.Abs(step) / 2;
        if (!(Math.Abs(x - y) <= expectedError + slack)) Assert.Fail($"{where} value {i}: x = {x}, y = {y}, grid step {step} in [{lo}, {hi}]");
    }

    private static double RelativeRmsError(float[] x, float[] y)
    {
        double err = 0, norm = 0;
        for (int i = 0; i < x.Length; i++)
        {
            err += (double)(x[i] - y[i]) * (x[i] - y[i]);
            norm += (double)x[i] * x[i];
        }
        return Math.Sqrt(err / norm);
    }

    // Loose sanity ceilings (uniform rounding noise of step/√12 relative to Gaussian weights),
    // catching a scrambled decoder even where the per-value bounds would be satisfied by accident.
    private static double MaxRelativeRms(GgmlType t) => t switch
    {
        GgmlType.Q8_0 => 0.01,
        GgmlType.Q6_K => 0.03,
        GgmlType.Q5_0 => 0.05,
        GgmlType.Q4_K => 0.12,
        _ => 0,
    };

    [Fact]
    public void EveryBlockOfTheQ4_K_MFileMatchesTheSpecDecoderBitForBit()
    {
        using var q = OpenTiny("step35-tiny-a-q4_k_m.gguf");
        var blocksPerType = new Dictionary<GgmlType, int>();
        foreach (GgufTensorInfo info in q.Tensors)
        {
            if (info.Type == GgmlType.F32)
                continue;
            TensorView view = q.GetTensor(info.Name);
            float[] y = view.ToFloatArray();
            int blockValues = GgmlTypeInfo.BlockSize(info.Type), blockBytes = GgmlTypeInfo.BlockBytes(info.Type);
            ReadOnlySpan<byte> bytes = view.Bytes;
            int blocks = y.Length / blockValues;
            for (int b = 0; b < blocks; b++)
            {
                ReadOnlySpan<byte> block = bytes.Slice(b * blockBytes, blockBytes);
                for (int i = 0; i < blockValues; i++)
                {
                    float expected = SpecBlockDecoder.Value(info.Type, block, i);
                    float actual = y[b * blockValues + i];
                    if (BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(actual))
                        Assert.Fail($"{info.Name} ({info.Type}) block {b} value {i}: spec decoder {expected}, Dequantize {actual}");
                }
            }
            blocksPerType[info.Type] = blocksPerType.GetValueOrDefault(info.Type) + blocks;
        }
        Assert.Equal(new HashSet<GgmlType> { GgmlType.Q5_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K }, blocksPerType.Keys.ToHashSet());
    }
}
