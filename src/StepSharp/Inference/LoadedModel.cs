using StepSharp.Formats;
using StepSharp.Kernels;
using StepSharp.Models;
using StepSharp.Tokenization;

namespace StepSharp.Inference;

/// <summary>A model ready to run: the mapped GGUF file, the network, its tokenizer and the kernel threads.</summary>
public sealed class LoadedModel : IDisposable
{
    private LoadedModel(GgufFile file, ICausalLanguageModel model, ITokenizer tokenizer, KernelThreadPool pool, string description)
    {
        File = file;
        Model = model;
        Tokenizer = tokenizer;
        Pool = pool;
        Description = description;
    }

    public GgufFile File { get; }
    public ICausalLanguageModel Model { get; }
    public ITokenizer Tokenizer { get; }
    public KernelThreadPool Pool { get; }
    /// <summary>What was loaded, for logs and banners.</summary>
    public string Description { get; }

    /// <summary>
    /// Opens a GGUF file, memory-mapped (<paramref name="mmap"/>) or read into huge-page memory
    /// (<see cref="GgufFile.Load"/>), and builds its model and tokenizer.
    /// </summary>
    public static LoadedModel Open(string path, int threads, bool mmap = true)
    {
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"model file '{path}' does not exist", path);
        return FromFile(mmap ? GgufFile.Open(path) : GgufFile.Load(path), threads, System.IO.Path.GetFileName(path));
    }

    /// <summary>Builds the model and tokenizer over an already open file; the result owns the file.</summary>
    public static LoadedModel FromFile(GgufFile file, int threads, string description)
    {
        var pool = new KernelThreadPool(threads);
        try
        {
            var model = ModelLoader.Load(file, pool);
            var tokenizer = GgufTokenizerLoader.Load(file.Metadata, file.Path);
            if (tokenizer.VocabSize > model.VocabSize)
                throw new InvalidDataException($"{file.Path}: the tokenizer has {tokenizer.VocabSize} tokens but the embedding only {model.VocabSize} rows");
            return new LoadedModel(file, model, tokenizer, pool, description);
        }
        catch
        {
            pool.Dispose();
            file.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        File.Dispose();
        Pool.Dispose();
    }
}
