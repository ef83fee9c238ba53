namespace StepSharp.Tensors;

/// <summary>
/// A tensor inside mapped (or pinned) memory. It never copies: <see cref="Data"/> points into the
/// owner's mapping, so a view is valid only while its owner (a GgufFile) is not disposed.
/// Shape is in ggml order: Shape[0] = ne0 is contiguous; a row is ne0 elements (spec gguf-format.md §1.3).
/// </summary>
public readonly unsafe struct TensorView
{
    /// <summary>Largest tensor <see cref="ToFloatArray"/> will materialise (64M floats = 256 MB).</summary>
    public const long MaxFloatArrayElements = 64L * 1024 * 1024;

    public TensorView(string name, GgmlType type, long[] shape, byte* data, long byteLength) : this(name, type, shape, data, byteLength, 0)
    {
    }

    /// <summary>
    /// A view whose matrices (the Shape[1]-row slices of a 3-D tensor, e.g. experts) lie <paramref name="matrixStride"/>
    /// bytes apart instead of one after another (0: one after another), as when the kernel layouts place each
    /// expert's gate, up and down matrices together; the bytes between belong to other tensors.
    /// </summary>
    public TensorView(string name, GgmlType type, long[] shape, byte* data, long byteLength, long matrixStride)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length is < 1 or > 4)
            throw new ArgumentException($"tensor '{name}' must have 1 to 4 dimensions, not {shape.Length}", nameof(shape));
        long rows = 1;
        for (int i = 1; i < shape.Length; i++)
            rows = checked(rows * shape[i]);
        long rowBytes = GgmlTypeInfo.RowBytes(type, shape[0]);
        if (checked(rowBytes * rows) != byteLength)
            throw new ArgumentException($"tensor '{name}' of {type} [{string.Join(", ", shape)}] takes {rowBytes * rows} bytes, not {byteLength}", nameof(byteLength));
        long matrixRows = shape.Length > 1 ? shape[1] : 1;
        if (matrixStride != 0 && matrixStride < matrixRows * rowBytes)
            throw new ArgumentException($"tensor '{name}': matrices of {matrixRows * rowBytes} bytes cannot lie {matrixStride} bytes apart", nameof(matrixStride));
        Name = name;
        Type = type;
        Shape = shape;
        Data = data;
        ByteLength = byteLength;
        RowCount = rows;
        RowByteLength = rowBytes;
        MatrixRows = matrixRows;
        MatrixStride = matrixStride == 0 ? matrixRows * rowBytes : matrixStride;
    }

    public string Name { get; }
    public GgmlType Type { get; }

    /// <summary>ggml order: Shape[0] = ne0 (contiguous, fastest), up to 4 dims.</summary>
    public long[] Shape { get; }

    public byte* Data { get; }
    public long ByteLength { get; }

    /// <summary>Elements per row (Shape[0]).</summary>
    public long Ne0 => Shape[0];

    /// <summary>Number of rows: the product of Shape[1..].</summary>
    public long RowCount { get; }

    /// <summary>Bytes of one row: GgmlTypeInfo.RowBytes(Type, Ne0).</summary>
    public long RowByteLength { get; }

    /// <summary>Rows of one matrix: Shape[1] (of one expert, in a 3-D tensor).</summary>
    public long MatrixRows { get; }

    /// <summary>Bytes from one matrix's start to the next's: MatrixRows·RowByteLength unless the matrices are spread out (see the constructor).</summary>
    public long MatrixStride { get; }

    /// <summary>True when the tensor's bytes are one run (its matrices are not spread out among other tensors').</summary>
    public bool IsContiguous => MatrixStride == MatrixRows * RowByteLength;

    /// <summary>Where row <paramref name="row"/> starts, in bytes from <see cref="Data"/> (its first block in a kernel layout).</summary>
    public long RowOffset(long row) => IsContiguous
        ? Blocks.InMemoryLayouts.RowStart(Type, row, RowByteLength)
        : row / MatrixRows * MatrixStride + Blocks.InMemoryLayouts.RowStart(Type, row % MatrixRows, RowByteLength);

    /// <summary>Total number of elements.</summary>
    public long ElementCount => Ne0 * RowCount;

    /// <summary>The whole tensor's bytes (only when it is below 2 GB, the limit of a span).</summary>
    public ReadOnlySpan<byte> Bytes
    {
        get
        {
            if (ByteLength > int.MaxValue)
                throw new InvalidOperationException($"tensor '{Name}' is {ByteLength} bytes, too large for one span; use Row()");
            if (!IsContiguous)
                throw new InvalidOperationException($"tensor '{Name}' has its matrices {MatrixStride} bytes apart, among other tensors' bytes; use its rows");
            return new ReadOnlySpan<byte>(Data, (int)ByteLength);
        }
    }

    /// <summary>The bytes of one row.</summary>
    /// <exception cref="InvalidOperationException">The tensor is in a kernel layout, whose rows are not contiguous (<see cref="Blocks.InMemoryLayouts"/>).</exception>
    public ReadOnlySpan<byte> Row(long row)
    {
        if (GgmlTypeInfo.IsInMemoryLayout(Type))
            throw new InvalidOperationException($"tensor '{Name}' is in the kernel layout {Type}, whose rows are stored four together, not one after another; use DequantizeRow or the kernels");
        return new ReadOnlySpan<byte>(RowPointer(row), checked((int)RowByteLength));
    }

    /// <summary>
    /// Pointer to the first byte of one row, for kernels that work on raw pointers (bounds-checked). In a kernel layout
    /// that is the row's first block, the next ones <see cref="Blocks.InMemoryLayouts.BlockStride"/> apart.
    /// </summary>
    public byte* RowPointer(long row)
    {
        if ((ulong)row >= (ulong)RowCount)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"tensor '{Name}' has {RowCount} rows");
        return Data + RowOffset(row);
    }

    /// <summary>Dequantizes one row into <paramref name="dst"/> (length Ne0).</summary>
    public void DequantizeRow(long row, Span<float> dst)
    {
        if (dst.Length != Ne0)
            throw new ArgumentException($"tensor '{Name}' rows have {Ne0} elements, the destination has {dst.Length}", nameof(dst));
        if (GgmlTypeInfo.IsInMemoryLayout(Type))
        {
            // The row's blocks gathered back into the file type (an embedding lookup does this once a token).
            int bytes = checked((int)RowByteLength);
            byte[]? rented = bytes > 16384 ? System.Buffers.ArrayPool<byte>.Shared.Rent(bytes) : null;
            Span<byte> fileRow = rented is null ? stackalloc byte[bytes] : rented.AsSpan(0, bytes);
            try
            {
                fixed (byte* p = fileRow) Blocks.InMemoryLayouts.RowToFileLayout(Type, RowPointer(row), Blocks.InMemoryLayouts.RowInGroup(row), RowByteLength / GgmlTypeInfo.BlockBytes(Type), p);
                Dequantize.Row(Blocks.InMemoryLayouts.FileType(Type), fileRow, dst);
            }
            finally
            {
                if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
            return;
        }
        Dequantize.Row(Type, Row(row), dst);
    }

    /// <summary>
    /// Dequantizes the whole tensor into a new array. For small tensors (norms, biases, router weights);
    /// large weights must be used in place through <see cref="Row"/>.
    /// </summary>
    public float[] ToFloatArray()
    {
        long count = ElementCount;
        if (count > MaxFloatArrayElements)
            throw new InvalidOperationException($"tensor '{Name}' has {count} elements; ToFloatArray is limited to {MaxFloatArrayElements} (use rows in place)");
        var result = new float[count];
        int ne0 = checked((int)Ne0);
        for (long r = 0; r < RowCount; r++)
            DequantizeRow(r, result.AsSpan(checked((int)(r * ne0)), ne0));
        return result;
    }

    public override string ToString() => $"{Name} {Type} [{string.Join(", ", Shape)}]";
}
