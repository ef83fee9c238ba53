using StepSharp.Kernels;

namespace StepSharp.Tests.Kernels;

/// <summary>
/// <see cref="KernelIsa.Force"/> changes a process-wide setting, so these tests run alone: a forced tier
/// would change the summation order of model tests running beside them (harmless for the float paths, but
/// the int8-activation conformance test follows llama.cpp's order on purpose).
/// </summary>
[CollectionDefinition(nameof(KernelIsaTests), DisableParallelization = true)]
public sealed class KernelIsaCollection;

[Collection(nameof(KernelIsaTests))]
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
