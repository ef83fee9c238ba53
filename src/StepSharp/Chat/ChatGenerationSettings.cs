using Microsoft.Extensions.AI;
using StepSharp.Inference;
using StepSharp.Inference.Sampling;
using StepSharp.Tokenization;

namespace StepSharp.Chat;

/// <summary>Maps <see cref="ChatOptions"/> onto the engine's generation settings and works out the chat stop tokens.</summary>
public static class ChatGenerationSettings
{
    /// <summary>Step 3.5 Flash ends generation on any of these ids (spec §5: eos {1, 2, 128007}).</summary>
    public static readonly int[] Step35EndOfGenerationIds = [1, 2, 128007];

    /// <summary>
    /// The ids a chat turn must stop on besides the tokenizer's own set: for Step 3.5 models (output format <c>step35</c>) the
    /// spec's ids, in the full-size vocabulary always and in smaller test vocabularies only where they are control tokens
    /// (there 1 and 2 may be plain bytes); for every model the ChatML turn terminator <c>&lt;|im_end|&gt;</c> when the vocabulary has it.
    /// </summary>
    public static IReadOnlyList<int> EndOfGenerationIds(ITokenizer tokenizer, string? outputFormat)
    {
        var ids = new List<int>();
        if (outputFormat == "step35")
        {
            bool fullVocabulary = tokenizer.VocabSize > Step35EndOfGenerationIds[^1];
            foreach (int id in Step35EndOfGenerationIds)
                if (id < tokenizer.VocabSize && (fullVocabulary || tokenizer.IsControl(id))) ids.Add(id);
        }
        if (tokenizer.TryGetSpecialId("<|im_end|>") is int imEnd && !ids.Contains(imEnd)) ids.Add(imEnd);
        return ids;
    }

    /// <summary>
    /// Generation settings for one request: <paramref name="defaults"/> overridden by what <paramref name="options"/> sets.
    /// Without MaxOutputTokens the turn may use the rest of the context.
    /// </summary>
    public static GenerationOptions ToGenerationOptions(ChatOptions? options, SamplingOptions defaults, int maxTokens, IReadOnlyList<int> endOfGenerationIds)
    {
        var sampling = defaults;
        if (options is not null)
        {
            sampling = sampling with
            {
                Temperature = options.Temperature ?? sampling.Temperature,
                TopP = options.TopP ?? sampling.TopP,
                TopK = options.TopK ?? sampling.TopK,
                FrequencyPenalty = options.FrequencyPenalty ?? sampling.FrequencyPenalty,
                PresencePenalty = options.PresencePenalty ?? sampling.PresencePenalty,
                Seed = options.Seed is long seed ? unchecked((ulong)seed) : sampling.Seed,
            };
            if (options.MaxOutputTokens is int max)
            {
                if (max < 1) throw new ArgumentOutOfRangeException(nameof(options), max, "MaxOutputTokens must be at least 1");
                maxTokens = Math.Min(maxTokens, max);
            }
        }
        sampling.Validate();
        return new GenerationOptions
        {
            MaxTokens = maxTokens,
            Sampling = sampling,
            StopStrings = options?.StopSequences is { Count: > 0 } stops ? [.. stops] : [],
            ExtraEndOfGenerationIds = endOfGenerationIds,
        };
    }

    /// <summary>
    /// The tools a template should see under <see cref="ChatOptions.ToolMode"/>: none → no tools; a required specific
    /// function → only that one (a template cannot force a call, so "required" is as strong as the prompt can make it).
    /// </summary>
    public static IEnumerable<AITool>? VisibleTools(ChatOptions? options)
    {
        if (options?.Tools is not { Count: > 0 } tools || options.ToolMode is NoneChatToolMode) return null;
        if (options.ToolMode is RequiredChatToolMode { RequiredFunctionName: string name })
            return tools.Where(t => t.Name == name);
        return tools;
    }
}
