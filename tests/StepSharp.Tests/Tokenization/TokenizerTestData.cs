using System.Text.Json;
using StepSharp.Tests.Support;
using StepSharp.Tokenization;

namespace StepSharp.Tests.Tokenization;

/// <summary>Loads the llama.cpp reference vocabularies and their test vectors (testdata/tokenizers/README.md).</summary>
internal static class TokenizerTestData
{
    public sealed record Case(string Text, int[] Ids);

    public static readonly string[] Vocabs =
        ["bert-bge", "deepseek-coder", "deepseek-llm", "falcon", "gpt-2", "llama-spm", "mpt", "phi-3", "refact", "starcoder"];

    private static readonly Dictionary<string, ITokenizer> Cache = new();

    public static ITokenizer Load(string vocab)
    {
        string path = TestData.Path("tokenizers", $"ggml-vocab-{vocab}.gguf");
        lock (Cache)
        {
            if (!Cache.TryGetValue(vocab, out var tok))
                Cache[vocab] = tok = GgufTokenizerLoader.Load(path);
            return tok;
        }
    }

    public static List<Case> Cases(string vocab) => ReadCases(TestData.Path("tokenizers", $"{vocab}.json"));

    public static List<Case> ReadCases(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement.ValueKind == JsonValueKind.Array ? doc.RootElement : doc.RootElement.GetProperty("cases");
        var cases = new List<Case>();
        foreach (var c in root.EnumerateArray())
        {
            var ids = new List<int>();
            foreach (var id in c.GetProperty("ids").EnumerateArray()) ids.Add(id.GetInt32());
            cases.Add(new Case(c.GetProperty("text").GetString()!, ids.ToArray()));
        }
        return cases;
    }

    public static string Show(IEnumerable<int> ids) => "[" + string.Join(", ", ids) + "]";
}
