using StepSharp.Tensors;

namespace StepSharp.Formats;

/// <summary>
/// One tensor-info record (spec gguf-format.md §1.3). Shape is in ggml order (Shape[0] = ne0, contiguous);
/// Offset is relative to the data section start.
/// </summary>
public sealed record GgufTensorInfo(string Name, GgmlType Type, long[] Shape, long Offset, long ByteLength)
{
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Shape)
                n *= d;
            return n;
        }
    }

    public override string ToString() => $"{Name} {Type} [{string.Join(", ", Shape)}] @+{Offset} ({ByteLength} B)";
}
