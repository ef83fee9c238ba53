using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using StepSharp.Tensors;

namespace StepSharp.Formats;

/// <summary>
/// A GGUF model file (spec gguf-format.md §1), memory-mapped read-only. Opening parses only the header,
/// straight from the mapping, so it costs the same for a 10 MB and a 120 GB file; tensor data stays in
/// the page cache and is reached through <see cref="TensorView"/>s, which are valid until Dispose. At load a
/// tensor's data may be rewritten into a kernel layout (<see cref="ConvertTensorInPlace"/> for a private copy,
/// <see cref="RelocateTensor"/> to a copy elsewhere); views then carry that layout's type, <see cref="Tensors"/> the file's.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    private const int HeaderBytes = 24;

    private readonly MemoryMappedFile? _mapping;
    private readonly MemoryMappedViewAccessor? _view;
    private bool _pointerAcquired;
    private GCHandle _pin;
    private readonly LargePageBuffer? _memory;
    private byte* _base;
    private readonly Dictionary<string, int> _tensorIndex;
    private readonly GgufTensorInfo[] _tensors;
    private readonly GgmlType[] _layouts;   // the type each tensor's data is in now: the file's, or one ConvertTensorInPlace made
    private readonly Dictionary<int, nint> _relocated = [];   // tensor index → data moved out of the file (RelocateTensor)
    private readonly Dictionary<int, long> _matrixStrides = [];   // tensor index → bytes between its matrices where they are spread out (RelocateTensor)
    private readonly List<IDisposable> _owned = [];           // memory of relocated tensors, freed with the file

    private GgufFile(string path, long length, MemoryMappedFile? mapping, MemoryMappedViewAccessor? view, GCHandle pin, byte* data, bool pointerAcquired, LargePageBuffer? memory = null)
    {
        _memory = memory;
        Path = path;
        FileLength = length;
        _mapping = mapping;
        _view = view;
        _pin = pin;
        _base = data;
        _pointerAcquired = pointerAcquired;
        try
        {
            GgufHeader header = GgufHeaderParser.Parse(data, length, path);
            Version = header.Version;
            Metadata = header.Metadata;
            Alignment = header.Alignment;
            DataOffset = header.DataOffset;
            _tensors = header.Tensors;
            _layouts = new GgmlType[_tensors.Length];
            for (int i = 0; i < _tensors.Length; i++)
                _layouts[i] = _tensors[i].Type;
            _tensorIndex = new Dictionary<string, int>(_tensors.Length, StringComparer.Ordinal);
            for (int i = 0; i < _tensors.Length; i++)
                _tensorIndex.Add(_tensors[i].Name, i);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Maps <paramref name="path"/> read-only and parses its header.</summary>
    /// <exception cref="GgufFormatException">The file is not a valid GGUF file.</exception>
    public static GgufFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        MemoryMappedFile? mapping = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            long length = stream.Length;
            // A zero-length file cannot be mapped, and anything shorter than the fixed header is not GGUF.
            if (length < HeaderBytes)
                throw new GgufFormatException(path, $"truncated: the file is {length} bytes, shorter than the {HeaderBytes}-byte GGUF header", 0);
            mapping = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = mapping.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            pointer += view.PointerOffset;
            return new GgufFile(path, length, mapping, view, default, pointer, pointerAcquired: true);
        }
        catch
        {
            if (mapping is null)
                stream.Dispose();
            view?.Dispose();
            mapping?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads <paramref name="path"/> into memory (llama.cpp's <c>--no-mmap</c>) instead of mapping it, into a
    /// <see cref="LargePageBuffer"/>: transparent huge pages make decode, which streams every weight each token,
    /// ~10 % faster on one thread than over the 4 KB pages of a file mapping. Costs the read at load time and
    /// memory of the file's size that the page cache cannot share.
    /// </summary>
    /// <exception cref="GgufFormatException">The file is not a valid GGUF file.</exception>
    public static GgufFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        long length = RandomAccess.GetLength(handle);
        if (length < HeaderBytes)
            throw new GgufFormatException(path, $"truncated: the file is {length} bytes, shorter than the {HeaderBytes}-byte GGUF header", 0);
        var memory = new LargePageBuffer(length);
        try
        {
            for (long offset = 0; offset < length;)
            {
                int read = RandomAccess.Read(handle, new Span<byte>(memory.Data + offset, (int)Math.Min(1L << 30, length - offset)), offset);
                if (read == 0) throw new GgufFormatException(path, $"the file ended at byte {offset} while reading its {length} bytes", offset);
                offset += read;
            }
            return new GgufFile(path, length, null, null, default, memory.Data, pointerAcquired: false, memory);
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    /// <summary>Parses an in-memory GGUF image (pinned until Dispose); used for built-in models and tests.</summary>
    public static GgufFile FromBytes(byte[] bytes, string displayName)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentException.ThrowIfNullOrEmpty(displayName);
        var pin = GCHandle.Alloc(bytes, GCHandleType.Pinned);
        return new GgufFile(displayName, bytes.Length, null, null, pin, (byte*)pin.AddrOfPinnedObject(), pointerAcquired: false);
    }

    /// <summary>The file path or display name; every error message starts with it.</summary>
    public string Path { get; }
    public uint Version { get; }
    public GgufMetadata Metadata { get; } = null!;
    public IReadOnlyList<GgufTensorInfo> Tensors => _tensors;

    /// <summary>general.alignment, or 32 when absent.</summary>
    public long Alignment { get; }

    /// <summary>Absolute byte offset of the data section.</summary>
    public long DataOffset { get; }
    public long FileLength { get; }

    public bool HasTensor(string name) => _tensorIndex.ContainsKey(name);

    public GgufTensorInfo GetTensorInfo(string name) =>
        _tensorIndex.TryGetValue(name, out int i) ? _tensors[i] : throw NotFound(name);

    /// <summary>A view over the tensor's bytes in the mapping (no copy).</summary>
    /// <exception cref="GgufFormatException">No tensor has this name.</exception>
    public TensorView GetTensor(string name) => TryGetTensor(name) ?? throw NotFound(name);

    public TensorView? TryGetTensor(string name)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        if (!_tensorIndex.TryGetValue(name, out int i))
            return null;
        GgufTensorInfo t = _tensors[i];
        byte* data = _relocated.TryGetValue(i, out nint moved) ? (byte*)moved : _base + DataOffset + t.Offset;
        return new TensorView(t.Name, _layouts[i], (long[])t.Shape.Clone(), data, t.ByteLength, _matrixStrides.GetValueOrDefault(i));
    }

    /// <summary>
    /// Points a tensor at a copy of its data elsewhere, in <paramref name="layout"/> (another layout of the same size,
    /// e.g. the kernels' rewritten copy of a mapped tensor); <paramref name="owner"/>, when given, is disposed with
    /// this file. Views taken afterwards read the copy; <see cref="Tensors"/> keeps the file's types.
    /// </summary>
    /// <exception cref="ArgumentException">The layout's rows take a different number of bytes.</exception>
    public void RelocateTensor(string name, GgmlType layout, byte* data, IDisposable? owner) => RelocateTensor(name, layout, data, owner, 0);

    /// <summary>
    /// As <see cref="RelocateTensor(string, GgmlType, byte*, IDisposable?)"/> with the tensor's matrices (its Shape[1]-row
    /// slices: experts) <paramref name="matrixStride"/> bytes apart in the copy (0: one after another; see <see cref="TensorView.MatrixStride"/>).
    /// </summary>
    public void RelocateTensor(string name, GgmlType layout, byte* data, IDisposable? owner, long matrixStride)
    {
        TensorView current = GetTensor(name);
        CheckSameSize(current, layout);
        ArgumentNullException.ThrowIfNull(data);
        _ = new TensorView(current.Name, layout, current.Shape, data, current.ByteLength, matrixStride);   // validates the stride
        if (owner is not null) _owned.Add(owner);
        int i = _tensorIndex[name];
        _relocated[i] = (nint)data;
        _layouts[i] = layout;
        if (matrixStride != 0) _matrixStrides[i] = matrixStride;
        else _matrixStrides.Remove(i);
    }

    private void CheckSameSize(in TensorView current, GgmlType layout)
    {
        if (GgmlTypeInfo.RowBytes(layout, current.Ne0) != current.RowByteLength)
            throw new ArgumentException($"{Path}: tensor '{current.Name}' cannot change from {current.Type} to {layout}: rows of {current.Ne0} values take {current.RowByteLength} and {GgmlTypeInfo.RowBytes(layout, current.Ne0)} bytes", nameof(layout));
    }

    /// <summary>True when the tensor data is this object's own copy of the file (<see cref="Load"/>), which <see cref="ConvertTensorInPlace"/> may rewrite.</summary>
    public bool HoldsPrivateCopy => _memory is not null;

    /// <summary>
    /// Rewrites a tensor's data in place into another layout of the same size (the kernels' in-memory layouts, e.g.
    /// <see cref="GgmlType.Q4_KInterleaved"/>): <paramref name="rewrite"/> gets the current view and changes its
    /// bytes; views taken afterwards have type <paramref name="layout"/>. Views taken before keep the old type over
    /// the new bytes, so call this before handing out views (at load). <see cref="Tensors"/> keeps the file's types.
    /// </summary>
    /// <exception cref="InvalidOperationException">The data is mapped from the file or pinned caller memory, not a private copy.</exception>
    /// <exception cref="ArgumentException">The layout's rows take a different number of bytes.</exception>
    public TensorView ConvertTensorInPlace(string name, GgmlType layout, Action<TensorView> rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        if (!HoldsPrivateCopy) throw new InvalidOperationException($"{Path}: tensor data is not a private copy; load the file into memory (GgufFile.Load) to rewrite it");
        TensorView current = GetTensor(name);
        CheckSameSize(current, layout);
        rewrite(current);
        _layouts[_tensorIndex[name]] = layout;
        return GetTensor(name);
    }

    public void Dispose()
    {
        if (_pointerAcquired)
        {
            _view!.SafeMemoryMappedViewHandle.ReleasePointer();
            _pointerAcquired = false;
        }
        _view?.Dispose();
        _mapping?.Dispose();
        if (_pin.IsAllocated)
            _pin.Free();
        _memory?.Dispose();
        foreach (IDisposable owned in _owned) owned.Dispose();
        _owned.Clear();
        _relocated.Clear();
        _matrixStrides.Clear();
        _base = null;
    }

    public override string ToString() => $"{Path} (GGUF v{Version}, {_tensors.Length} tensors, {Metadata.Count} keys)";

    private GgufFormatException NotFound(string name) => new(Path, $"tensor '{name}' not found");
}
