using StepSharp.Chat;
using StepSharp.Inference;
using StepSharp.Tokenization;

namespace StepSharp.Server;

/// <summary>The model the server answers with, once loaded: engine, tokenizer, chat formatter and derived settings.</summary>
public sealed class ServedModel : IDisposable
{
    // Step 3.5 Flash ends turns on any of these (spec §5); only added where the vocabulary has them as control tokens.
    private static readonly int[] Step35EndIds = [1, 2, 128007];

    public ServedModel(BatchingCompletionEngine engine, string id)
    {
        Engine = engine;
        Id = id;
        var loaded = engine.Model;
        try
        {
            Formatter = ChatPromptFormatter.ForModel(loaded);
        }
        catch (InvalidDataException)
        {
            Formatter = null; // no chat template: /v1/completions still works, chat routes answer 400
        }
        var extra = new List<int>();
        if (Formatter?.OutputFormat == "step35")
            foreach (int idEnd in Step35EndIds)
                if (idEnd < Tokenizer.VocabSize && Tokenizer.IsControl(idEnd)) extra.Add(idEnd);
        ExtraEndOfGenerationIds = extra;
        Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    }

    public BatchingCompletionEngine Engine { get; }
    public string Id { get; }
    public ITokenizer Tokenizer => Engine.Model.Tokenizer;
    public int VocabSize => Engine.Model.Model.VocabSize;
    public int ContextLength => Engine.ContextLength;
    public ChatPromptFormatter? Formatter { get; }
    public IReadOnlyList<int> ExtraEndOfGenerationIds { get; }
    public long Created { get; }

    /// <summary>Tokens of a rendered chat prompt: the template writes BOS itself; add it only when the model wants one and the template did not.</summary>
    public int[] EncodePrompt(string prompt, bool templated)
    {
        int[] ids = Tokenizer.Encode(prompt, addSpecial: !templated, parseSpecial: true);
        if (templated && Tokenizer.AddBos && Tokenizer.BosId >= 0 && (ids.Length == 0 || ids[0] != Tokenizer.BosId))
            ids = [Tokenizer.BosId, .. ids];
        return ids;
    }

    /// <summary>A prompt must leave room for one generated token; the 400 names the limit.</summary>
    public void CheckFits(int promptTokens, string param)
    {
        if (promptTokens == 0) throw ApiException.BadRequest("the prompt is empty (no tokens)", param);
        if (promptTokens >= ContextLength)
            throw ApiException.BadRequest($"the prompt has {promptTokens} tokens but the context length is {ContextLength} (room is needed for at least one generated token)",
                param, "context_length_exceeded");
    }

    public void Dispose()
    {
        var model = Engine.Model;
        Engine.Dispose();
        model.Dispose();
    }
}
