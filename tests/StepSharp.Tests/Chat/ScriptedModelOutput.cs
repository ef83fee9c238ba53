using StepSharp.Inference;
using StepSharp.Tokenization;

namespace StepSharp.Tests.Chat;

/// <summary>
/// A scripted "model" for the chat layer: each generation emits the tokens of the next text (tokenized by the model's own
/// tokenizer, control-token strings as their ids) and remembers the prompt it was given.
/// </summary>
internal sealed class ScriptedModelOutput(ITokenizer tokenizer, params string[] outputs) : IScriptedOutput
{
    private int _next;

    public List<int[]> Prompts { get; } = [];

    public IReadOnlyList<int> Next(IReadOnlyList<int> promptTokens)
    {
        lock (Prompts)
        {
            Prompts.Add([.. promptTokens]);
            if (_next >= outputs.Length) throw new InvalidOperationException($"the script has only {outputs.Length} outputs");
            return tokenizer.Encode(outputs[_next++], addSpecial: false, parseSpecial: true);
        }
    }

    public string DecodedPrompt(int call) => tokenizer.Decode(Prompts[call]);
}
