using StepSharp.Kernels;

namespace StepSharp.Tests.Kernels;

public class KernelIsaTests
{
    [Theory]
    [InlineData("avx512", Isa.Avx512)]
    [InlineData("AVX2", Isa.Avx2)]
    [InlineData(" scalar ", Isa.Scalar)]
    public void ParsesTheEnvironmentNames(string name, Isa expected) => Assert.Equal(expected, KernelIsa.Parse(name));

    [Fact]
    public void UnknownNameIsRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => KernelIsa.Parse("sse9"));
        Assert.Contains("STEPSHARP_ISA", ex.Message);
    }

    [Fact]
    public void ForceLastsUntilTheScopeIsDisposed()
    {
        Isa before = KernelIsa.Current;
        using (KernelIsa.Force(Isa.Scalar))
            Assert.Equal(Isa.Scalar, KernelIsa.Current);
        Assert.Equal(before, KernelIsa.Current);
    }
}
