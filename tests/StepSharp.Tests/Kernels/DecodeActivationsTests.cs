using StepSharp.Kernels;
using StepSharp.Tensors;

namespace StepSharp.Tests.Kernels;

public class DecodeActivationsTests
{
    [Theory]
    [InlineData(GgmlType.Q4_K, GgmlType.Q6_K)]                       // one Q8_K copy
    [InlineData(GgmlType.Q4_KInterleaved, GgmlType.Q6_KInterleaved)] // one Q8_K copy with its permuted values
    [InlineData(GgmlType.Q4_K, GgmlType.Q4_KInterleaved)]
    [InlineData(GgmlType.Q8_0Grouped, GgmlType.Q8_0)]                // one Q8_0 copy
    [InlineData(GgmlType.Q8_0, GgmlType.Q4_K)]                       // both kinds
    [InlineData(GgmlType.F32, GgmlType.Q6_K)]                        // float weights read the float values
    public unsafe void AnInt8CopyMadeOnceGivesTheResultsOfQuantizingPerCall(GgmlType first, GgmlType second)
    {
        // Bit-identical to the float-input calls (which quantize x themselves), for plain and shared-input calls, on one
        // and two threads, for any row range that starts a group (an expert's rows of a 3-D tensor).
        const int inputs = 512, rows = 24;
        byte[] a = RandomWeights.Rows(first, rows, inputs, seed: 5), b = RandomWeights.Rows(second, rows, inputs, seed: 6);
        float[] x = RandomWeights.Vector(inputs, seed: 7, scale: 3f);
        var decodeInput = new DecodeActivations();
        decodeInput.Prepare(x, first, second);
        Assert.Equal(x, decodeInput.Values.ToArray());
        foreach (int threads in new[] { 1, 2 })
        {
            using var pool = new KernelThreadPool(threads);
            fixed (byte* pa = a) fixed (byte* pb = b)
            {
                var wa = new TensorView("a", first, [inputs, rows], pa, a.Length);
                var wb = new TensorView("b", second, [inputs, rows], pb, b.Length);
                foreach (var (start, count) in new[] { (0, rows), (8, 16), (4, 8) })
                {
                    var expected = new float[count];
                    var actual = new float[count];
                    MatMul.Compute(pool, wa, start, count, x, 1, expected);
                    MatMul.Compute(pool, wa, start, count, decodeInput, actual);
                    Assert.Equal(expected, actual);
                    MatMul.Compute(pool, wb, start, count, x, 1, expected);
                    MatMul.Compute(pool, wb, start, count, decodeInput, actual);
                    Assert.Equal(expected, actual);
                }
                // The two matrices of one shared float input (its one quantization) agree with the prepared copy too.
                float[] ea = new float[rows], eb = new float[rows], ya = new float[rows], yb = new float[rows];
                MatMul.ComputeSameInput(pool, x, 1, wa, ea, wb, eb);
                MatMul.Compute(pool, wa, 0, rows, decodeInput, ya);
                MatMul.Compute(pool, wb, 0, rows, decodeInput, yb);
                Assert.Equal(ea, ya);
                Assert.Equal(eb, yb);
            }
        }
    }

    [Fact]
    public unsafe void ACopyForOtherWeightsOrAnOldVectorIsNeverUsed()
    {
        // Prepared for Q4_K only, then used with Q8_0 weights: those quantize the float values themselves. Prepared
        // again with a new vector: the results follow the new vector, and a copy prepared under the float mode is float.
        const int inputs = 256, rows = 8;
        byte[] q8 = RandomWeights.Rows(GgmlType.Q8_0, rows, inputs, seed: 1), q4 = RandomWeights.Rows(GgmlType.Q4_K, rows, inputs, seed: 2);
        float[] x1 = RandomWeights.Vector(inputs, seed: 3), x2 = RandomWeights.Vector(inputs, seed: 4);
        using var pool = new KernelThreadPool(1);
        var decodeInput = new DecodeActivations();
        fixed (byte* p8 = q8) fixed (byte* p4 = q4)
        {
            var w8 = new TensorView("w8", GgmlType.Q8_0, [inputs, rows], p8, q8.Length);
            var w4 = new TensorView("w4", GgmlType.Q4_K, [inputs, rows], p4, q4.Length);
            float[] expected = new float[rows], actual = new float[rows];
            decodeInput.Prepare(x1, GgmlType.Q4_K);
            MatMul.Compute(pool, w8, 0, rows, x1, 1, expected);
            MatMul.Compute(pool, w8, 0, rows, decodeInput, actual);
            Assert.Equal(expected, actual);

            decodeInput.Prepare(x2, GgmlType.Q4_K);
            MatMul.Compute(pool, w4, 0, rows, x2, 1, expected);
            MatMul.Compute(pool, w4, 0, rows, decodeInput, actual);
            Assert.Equal(expected, actual);

            using (ActivationQuantization.Set(ActivationMode.Float))
            {
                decodeInput.Prepare(x1, GgmlType.Q4_K);
                MatMul.Compute(pool, w4, 0, rows, x1, 1, expected);
                MatMul.Compute(pool, w4, 0, rows, decodeInput, actual);
                Assert.Equal(expected, actual);
            }
            // Float-mode copy used under the int8 mode: no int8 copy was made, so the call quantizes for itself.
            MatMul.Compute(pool, w4, 0, rows, x1, 1, expected);
            MatMul.Compute(pool, w4, 0, rows, decodeInput, actual);
            Assert.Equal(expected, actual);
        }
    }
}
