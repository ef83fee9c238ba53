using System.Buffers.Binary;
using StepSharp.Tensors;

namespace StepSharp.Tests.Tensors;

public class QuantizeTests
{
    public static TheoryData<GgmlType> QuantizedTypes() => new()
    {
        GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
    };

    /// <summary>Rows that stress the scale searches: Gaussian, outliers, one-signed, tiny, constant, sparse.</summary>
    private static IEnumerable<(string Name, float[] Row)> Rows(int length)
    {
        var rng = new Random(99);
        float Gauss() => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        yield return ("gaussian", Enumerable.Range(0, length).Select(_ => Gauss()).ToArray());
        yield return ("outliers", Enumerable.Range(0, length).Select(i => i % 37 == 5 ? 40 * Gauss() : Gauss()).ToArray());
        yield return ("all positive", Enumerable.Range(0, length).Select(_ => 3 + MathF.Abs(Gauss())).ToArray());
        yield return ("all negative", Enumerable.Range(0, length).Select(_ => -1 - MathF.Abs(Gauss())).ToArray());
        yield return ("tiny", Enumerable.Range(0, length).Select(_ => 1e-3f * Gauss()).ToArray());
        yield return ("sparse", Enumerable.Range(0, length).Select(i => i % 9 == 0 ? Gauss() : 0f).ToArray());
    }

    [Theory]
    [MemberData(nameof(QuantizedTypes))]
    public void DequantizedQuantizationStaysWithinTheQuantizerBound(GgmlType type)
    {
        int blockValues = GgmlTypeInfo.BlockSize(type), blockBytes = GgmlTypeInfo.BlockBytes(type);
        foreach (var (name, x) in Rows(4 * 256))
        {
            var bytes = new byte[GgmlTypeInfo.RowBytes(type, x.Length)];
            Quantize.Row(type, x, bytes);
            var y = new float[x.Length];
            Dequantize.Row(type, bytes, y);
            for (int b = 0; b < x.Length / blockValues; b++)
            {
                QuantizationBounds.Block(type, $"{type} {name} block {b}", bytes.AsSpan(b * blockBytes, blockBytes),
                    x.AsSpan(b * blockValues, blockValues), y.AsSpan(b * blockValues, blockValues));
            }
            if (name is "gaussian" or "tiny")
            {
                double rms = QuantizationBounds.RelativeRmsError(x, y);
                Assert.True(rms < QuantizationBounds.MaxRelativeRms(type), $"{type} {name}: relative RMS error {rms}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(QuantizedTypes))]
    public void ZerosAndConstantsSurviveExactly(GgmlType type)
    {
        int n = 256;
        var bytes = new byte[GgmlTypeInfo.RowBytes(type, n)];
        var y = new float[n];
        Quantize.Row(type, new float[n], bytes);
        Dequantize.Row(type, bytes, y);
        Assert.All(y, v => Assert.Equal(0f, v));

        // A constant 0.5 is exactly representable by every type: it is max, or min, or a scale step.
        float[] constant = Enumerable.Repeat(0.5f, n).ToArray();
        Quantize.Row(type, constant, bytes);
        Dequantize.Row(type, bytes, y);
        Assert.All(y, v => Assert.True(Math.Abs(v - 0.5f) <= 0.5f / 32, $"{type}: constant 0.5 decoded as {v}"));
    }

    [Fact]
    public void Q8_0BytesFollowTheReferenceFormula()
    {
        // x_i = i - 10 for i < 32: amax = 21, d = 21/127, q_i = round((i - 10)*127/21) with ties away from zero.
        float[] x = Enumerable.Range(0, 32).Select(i => (float)(i - 10)).ToArray();
        var block = new byte[34];
        Quantize.Row(GgmlType.Q8_0, x, block);
        Assert.Equal((Half)(21f / 127f), BinaryPrimitives.ReadHalfLittleEndian(block));
        for (int i = 0; i < 32; i++)
            Assert.Equal((sbyte)Math.Round((i - 10) * 127.0 / 21.0, MidpointRounding.AwayFromZero), (sbyte)block[2 + i]);
        Assert.Equal(127, (sbyte)block[33]);
    }

    [Fact]
    public void Q8_0RoundsTiesAwayFromZero()
    {
        // amax = 127 makes d = 1 exactly, so x = ±2.5 is an exact tie: roundf gives ±3 (banker's would give ±2).
        float[] x = new float[32];
        x[0] = 127;
        x[1] = 2.5f;
        x[2] = -2.5f;
        var block = new byte[34];
        Quantize.Row(GgmlType.Q8_0, x, block);
        Assert.Equal(3, (sbyte)block[3]);
        Assert.Equal(-3, (sbyte)block[4]);
    }

    [Fact]
    public void Q4_0PutsTheExtremeValueOnMinusEight()
    {
        // max = -4 (largest magnitude, negative): d = -4/-8 = 0.5, and x = -4 maps to level 0, i.e. (0-8)*0.5.
        float[] x = Enumerable.Range(0, 32).Select(i => i == 7 ? -4f : (i % 5) * 0.5f).ToArray();
        var block = new byte[18];
        Quantize.Row(GgmlType.Q4_0, x, block);
        Assert.Equal((Half)0.5f, BinaryPrimitives.ReadHalfLittleEndian(block));
        Assert.Equal(0, block[2 + 7] & 15);
        var y = new float[32];
        Dequantize.Row(GgmlType.Q4_0, block, y);
        Assert.Equal(x, y); // every value is a multiple of d = 0.5 within [-4, 3.5], so exact
    }

    [Fact]
    public void RowRejectsBadArguments()
    {
        Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q8_0, new float[31], new byte[34]));
        Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q8_0, new float[32], new byte[35]));
        Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q3_K, new float[256], new byte[110]));
        Assert.False(Quantize.Supports(GgmlType.IQ4_XS));
    }

    [Fact]
    public void FloatTypesRoundToNearestEven()
    {
        // bf16 keeps 7 fraction bits: 1 + 2^-8 is halfway between 1 and 1 + 2^-7 → even (1);
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6 → even (1 + 2^-6). fp16 keeps 10 bits:
        // 1 + 2^-11 is a tie → 1, 1 + 3·2^-11 a tie → 1 + 2^-9; 70000 overflows fp16 (max 65504) to +inf.
        float[] x = [1 + 1f / 256, 1 + 3f / 256, 1 + 1f / 2048, 1 + 3f / 2048, -0f, 70000f];
        var bf16 = new byte[12];
        var f16 = new byte[12];
        var y = new float[6];
        Quantize.Row(GgmlType.BF16, x, bf16);
        Dequantize.Row(GgmlType.BF16, bf16, y);
        Assert.Equal([1f, 1 + 1f / 64, 1f, 1f, -0f, 70144f], y); // 70000 is 136.7 steps of 512
        Assert.True(float.IsNegative(y[4]));
        Quantize.Row(GgmlType.F16, x, f16);
        Dequantize.Row(GgmlType.F16, f16, y);
        Assert.Equal([1 + 1f / 256, 1 + 3f / 256, 1f, 1 + 1f / 512, -0f, float.PositiveInfinity], y);
    }
}
