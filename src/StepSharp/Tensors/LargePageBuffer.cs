using System.Runtime.InteropServices;

namespace StepSharp.Tensors;

/// <summary>
/// Native memory for data that is streamed every token (weights read into memory, the bandwidth probe),
/// aligned to 2 MB and, on Linux, advised to use transparent huge pages (madvise MADV_HUGEPAGE, which works in
/// the kernel's default "madvise" THP mode). With 4 KB pages a decode step that streams 100s of MB touches tens
/// of thousands of pages: each costs a TLB miss, and the hardware prefetchers stop at every 4 KB boundary.
/// Measured on the mini Q4_K_M model, one thread: decode 187 → 206 tokens/s against the same file mapped.
/// File mappings cannot get huge pages here (MADV_COLLAPSE on the mapped GGUF fails with EINVAL on ext4),
/// hence a copy. Memory is zero-filled lazily by the kernel; the owner frees it with <see cref="Dispose"/>.
/// </summary>
public sealed unsafe class LargePageBuffer : IDisposable
{
    /// <summary>The x86-64 huge page size.</summary>
    public const long PageBytes = 2L << 20;
    private const int MadviseHugePage = 14;   // MADV_HUGEPAGE

    private byte* _data;

    /// <exception cref="OutOfMemoryException">The machine cannot provide <paramref name="bytes"/> bytes (the message says how many).</exception>
    public LargePageBuffer(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        Length = bytes;
        long rounded = Math.Max(PageBytes, (bytes + PageBytes - 1) / PageBytes * PageBytes);
        try
        {
            _data = (byte*)NativeMemory.AlignedAlloc((nuint)rounded, (nuint)PageBytes);
        }
        catch (OutOfMemoryException)
        {
            throw new OutOfMemoryException($"cannot allocate {bytes / 1048576.0:F0} MiB to hold the data in memory; use memory mapping instead");
        }
        HugePages = OperatingSystem.IsLinux() && Madvise(_data, (nuint)rounded, MadviseHugePage) == 0;
    }

    public byte* Data => _data != null ? _data : throw new ObjectDisposedException(nameof(LargePageBuffer));
    public long Length { get; }
    /// <summary>Whether the kernel accepted the huge-page advice (it may still fall back to small pages when fragmented).</summary>
    public bool HugePages { get; }

    public void Dispose()
    {
        if (_data == null) return;
        NativeMemory.AlignedFree(_data);
        _data = null;
    }

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(void* address, nuint length, int advice);
}
