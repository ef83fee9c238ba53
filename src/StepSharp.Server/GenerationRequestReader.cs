using System.Globalization;
using System.Text.Json.Nodes;
using StepSharp.Inference;
using StepSharp.Inference.Sampling;

namespace StepSharp.Server;

/// <summary>The generation settings of a chat or text completion request, validated.</summary>
internal sealed record GenerationRequest(GenerationOptions Options, int Choices, bool Stream, bool IncludeUsage, int? MaxTokens)
{
    /// <summary>The options of choice <paramref name="index"/>: with a seed, choice i uses seed + i, so the choices differ but reproduce.</summary>
    public GenerationOptions ForChoice(int index, int promptTokens, int contextLength)
    {
        int room = contextLength - promptTokens;
        var sampling = Options.Sampling.Seed is { } seed ? Options.Sampling with { Seed = seed + (ulong)index } : Options.Sampling;
        return Options with { MaxTokens = Math.Min(MaxTokens ?? room, room), Sampling = sampling };
    }
}

/// <summary>Reads the OpenAI sampling and stopping fields shared by /v1/chat/completions and /v1/completions.</summary>
internal static class GenerationRequestReader
{
    public const int MaxStopStrings = 4;

    public static GenerationRequest Read(JsonObject body, ServedModel model, bool chat, int maxChoices)
    {
        long? maxTokens = JsonFields.Integer(body, "max_completion_tokens", 0, int.MaxValue) ?? JsonFields.Integer(body, "max_tokens", 0, int.MaxValue);
        float temperature = (float)(JsonFields.Number(body, "temperature", 0, 2) ?? 1.0);
        var sampling = new SamplingOptions
        {
            Temperature = temperature,
            TopP = (float)(JsonFields.Number(body, "top_p", 0, 1) ?? 1.0) is var p && p > 0 ? p : throw ApiException.BadRequest("'top_p' must be greater than 0", "top_p"),
            TopK = (int)(JsonFields.Integer(body, "top_k", 0, model.VocabSize) ?? 0),
            MinP = (float)(JsonFields.Number(body, "min_p", 0, 1) ?? 0),
            PresencePenalty = (float)(JsonFields.Number(body, "presence_penalty", -2, 2) ?? 0),
            FrequencyPenalty = (float)(JsonFields.Number(body, "frequency_penalty", -2, 2) ?? 0),
            RepetitionPenalty = (float)(JsonFields.Number(body, "repetition_penalty", 0.01, 10) ?? 1),
            Seed = JsonFields.Integer(body, "seed", long.MinValue, long.MaxValue) is { } seed ? unchecked((ulong)seed) : null,
            LogitBias = ReadLogitBias(body, model.VocabSize),
            TopLogprobs = chat ? ReadChatTopLogprobs(body) : (int)(JsonFields.Integer(body, "logprobs", 0, 5) ?? 0),
        };
        bool logprobs = chat ? JsonFields.Bool(body, "logprobs") ?? false : JsonFields.Has(body, "logprobs");
        int n = (int)(JsonFields.Integer(body, "n", 1, maxChoices) ?? 1);
        bool stream = JsonFields.Bool(body, "stream") ?? false;
        var streamOptions = JsonFields.Object(body, "stream_options");
        if (streamOptions is not null && !stream) throw ApiException.BadRequest("'stream_options' is only allowed when 'stream' is true", "stream_options");
        bool includeUsage = streamOptions is not null && (JsonFields.Bool(streamOptions, "include_usage", "stream_options.include_usage") ?? false);
        var options = new GenerationOptions
        {
            Sampling = sampling,
            StopStrings = ReadStop(body),
            Logprobs = logprobs,
            ExtraEndOfGenerationIds = model.ExtraEndOfGenerationIds,
        };
        return new GenerationRequest(options, n, stream, includeUsage, maxTokens is null ? null : (int)maxTokens);
    }

    private static int ReadChatTopLogprobs(JsonObject body)
    {
        int top = (int)(JsonFields.Integer(body, "top_logprobs", 0, SamplingOptions.MaxTopLogprobs) ?? 0);
        if (top > 0 && JsonFields.Bool(body, "logprobs") != true)
            throw ApiException.BadRequest("'top_logprobs' needs 'logprobs' set to true", "top_logprobs");
        return top;
    }

    private static IReadOnlyList<string> ReadStop(JsonObject body)
    {
        if (!body.TryGetPropertyValue("stop", out var node) || node is null) return [];
        if (node is JsonValue) return [NonEmpty(JsonFields.String(body, "stop")!, "stop")];
        if (node is not JsonArray array) throw ApiException.BadRequest($"'stop' must be a string or an array of strings, got {JsonFields.Describe(node)}", "stop");
        if (array.Count > MaxStopStrings) throw ApiException.BadRequest($"'stop' holds {array.Count} strings; at most {MaxStopStrings} are allowed", "stop");
        var stops = new List<string>(array.Count);
        for (int i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonValue v || v.GetValueKind() != System.Text.Json.JsonValueKind.String)
                throw ApiException.BadRequest($"'stop[{i}]' must be a string, got {JsonFields.Describe(array[i])}", "stop");
            stops.Add(NonEmpty(v.GetValue<string>(), $"stop[{i}]"));
        }
        return stops;
    }

    private static string NonEmpty(string s, string param)
        => s.Length > 0 ? s : throw ApiException.BadRequest($"'{param}' is an empty string; stop strings must not be empty", "stop");

    private static Dictionary<int, float> ReadLogitBias(JsonObject body, int vocabSize)
    {
        var bias = new Dictionary<int, float>();
        var o = JsonFields.Object(body, "logit_bias");
        if (o is null) return bias;
        foreach (var (key, _) in o)
        {
            if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
                throw ApiException.BadRequest($"'logit_bias' keys must be token ids, got '{key}'", "logit_bias");
            if (id >= vocabSize) throw ApiException.BadRequest($"'logit_bias' names token {id}, outside the vocabulary of {vocabSize}", "logit_bias");
            double value = JsonFields.Number(o, key, -100, 100, $"logit_bias.{key}")!.Value;
            // OpenAI: -100 bans the token.
            bias[id] = value <= -100 ? float.NegativeInfinity : (float)value;
        }
        return bias;
    }
}
