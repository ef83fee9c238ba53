using StepSharp.Tokenization;

namespace StepSharp.Tests.Tokenization;

/// <summary>
/// Every case of llama.cpp's test-tokenizer-0 vectors (add_special = false, parse_special = false) for the
/// ten reference vocabularies must give exactly llama.cpp's ids.
/// </summary>
public class LlamaCppVocabConformanceTests(ITestOutputHelper output)
{
    public static TheoryData<string> VocabNames => new(TokenizerTestData.Vocabs);

    [Theory]
    [MemberData(nameof(VocabNames))]
    public void AllReferenceCasesMatchLlamaCpp(string vocab)
    {
        var tokenizer = TokenizerTestData.Load(vocab);
        var cases = TokenizerTestData.Cases(vocab);
        var failures = new List<string>();
        foreach (var c in cases)
        {
            int[] ids = tokenizer.Encode(c.Text, addSpecial: false, parseSpecial: false);
            if (!ids.AsSpan().SequenceEqual(c.Ids))
                failures.Add($"{System.Text.Json.JsonSerializer.Serialize(c.Text)}: expected {TokenizerTestData.Show(c.Ids)}, got {TokenizerTestData.Show(ids)}");
        }
        output.WriteLine($"{vocab}: {cases.Count - failures.Count}/{cases.Count} cases equal llama.cpp");
        Assert.True(failures.Count == 0, $"{vocab}: {failures.Count}/{cases.Count} cases differ:\n" + string.Join("\n", failures));
    }
}
