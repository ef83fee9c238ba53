using StepSharp.Tensors;

namespace StepSharp.Tests.Tensors;

public unsafe class LargePageBufferTests
{
    [Fact]
    public void IsAlignedToAHugePageWritableAndAdvisedWhereTheKernelAllowsIt()
    {
        using var buffer = new LargePageBuffer(3 * LargePageBuffer.PageBytes + 5);
        Assert.Equal(0, (long)buffer.Data % LargePageBuffer.PageBytes);
        Assert.Equal(3 * LargePageBuffer.PageBytes + 5, buffer.Length);
        var span = new Span<byte>(buffer.Data, (int)buffer.Length);
        span.Fill(0x5A);
        Assert.Equal(0x5A, buffer.Data[buffer.Length - 1]);

        // madvise(MADV_HUGEPAGE) succeeds unless THP is compiled out; "never" mode still accepts the advice.
        const string thp = "/sys/kernel/mm/transparent_hugepage/enabled";
        if (OperatingSystem.IsLinux() && File.Exists(thp)) Assert.True(buffer.HugePages, File.ReadAllText(thp));
        if (!OperatingSystem.IsLinux()) Assert.False(buffer.HugePages);
    }

    [Fact]
    public void DisposeFreesOnceAndLaterUseFailsClearly()
    {
        var buffer = new LargePageBuffer(100);
        buffer.Dispose();
        buffer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => (long)buffer.Data);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LargePageBuffer(-1));
    }
}
