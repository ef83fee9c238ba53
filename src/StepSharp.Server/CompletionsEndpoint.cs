using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StepSharp.Inference;

namespace StepSharp.Server;

/// <summary>
/// POST /v1/completions (the legacy text API): a prompt string (or token ids; an array of them gives one set of
/// <c>n</c> choices per prompt), raw continuation, <c>echo</c>, and logprobs as the old parallel arrays.
/// </summary>
internal static class CompletionsEndpoint
{
    public static async Task<IResult> HandleAsync(HttpContext context, ServedModel model, ServerOptions options, ServerMetrics metrics, ILogger log)
    {
        var body = JsonFields.ParseBody(await RequestBody.ReadAsync(context).ConfigureAwait(false));
        var prompts = ReadPrompts(body, model);
        var g = GenerationRequestReader.Read(body, model, chat: false, options.MaxChoices);
        if (prompts.Count * g.Choices > options.MaxChoices)
            throw ApiException.BadRequest($"{prompts.Count} prompts × n={g.Choices} make {prompts.Count * g.Choices} choices; at most {options.MaxChoices} are allowed", "prompt");
        bool echo = JsonFields.Bool(body, "echo") ?? false;
        if (JsonFields.String(body, "suffix") is { Length: > 0 }) throw ApiException.BadRequest("'suffix' (insertion) is not supported", "suffix");

        var requests = new List<CompletionRequest>();
        var echoes = new List<string>();
        int promptTokens = 0;
        foreach (var (ids, text) in prompts)
        {
            model.CheckFits(ids.Length, "prompt");
            promptTokens += ids.Length;
            for (int i = 0; i < g.Choices; i++)
            {
                requests.Add(new CompletionRequest { PromptTokens = ids, Options = g.ForChoice(i, ids.Length, model.ContextLength) });
                echoes.Add(echo ? text : "");
            }
        }
        var responder = new TextResponder(model, metrics, log, JsonFields.String(body, "model"), echoes, g.Options.Logprobs);
        return await responder.RunAsync(context, requests, promptTokens, g.Stream, g.IncludeUsage).ConfigureAwait(false);
    }

    /// <summary>The prompts with their token ids and text.</summary>
    private static List<(int[] Ids, string Text)> ReadPrompts(JsonObject body, ServedModel model)
    {
        if (!body.TryGetPropertyValue("prompt", out var node) || node is null) throw ApiException.BadRequest("'prompt' is required", "prompt");
        var prompts = new List<(int[], string)>();
        if (node is JsonValue) prompts.Add(FromText(JsonFields.String(body, "prompt")!, model));
        else if (node is JsonArray array && array.Count > 0 && array[0] is JsonValue v0 && v0.GetValueKind() == JsonValueKind.Number) prompts.Add(FromIds(array, "prompt", model));
        else if (node is JsonArray list && list.Count > 0)
        {
            for (int i = 0; i < list.Count; i++)
            {
                prompts.Add(list[i] switch
                {
                    JsonValue s when s.GetValueKind() == JsonValueKind.String => FromText(s.GetValue<string>(), model),
                    JsonArray ids => FromIds(ids, $"prompt[{i}]", model),
                    var other => throw ApiException.BadRequest($"'prompt[{i}]' must be a string or an array of token ids, got {JsonFields.Describe(other)}", "prompt"),
                });
            }
        }
        else throw ApiException.BadRequest($"'prompt' must be a string, an array of strings or token ids, got {(node is JsonArray ? "an empty array" : JsonFields.Describe(node))}", "prompt");
        return prompts;
    }

    private static (int[], string) FromText(string text, ServedModel model) => (model.EncodePrompt(text, templated: false), text);

    private static (int[], string) FromIds(JsonArray array, string param, ServedModel model)
    {
        var ids = new int[array.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            if (array[i] is not JsonValue v || !v.TryGetValue(out int id) || id < 0 || id >= model.VocabSize)
                throw ApiException.BadRequest($"'{param}[{i}]' must be a token id in 0..{model.VocabSize - 1}, got {array[i]?.ToJsonString() ?? "null"}", "prompt");
            ids[i] = id;
        }
        return (ids, model.Tokenizer.Decode(ids));
    }

    private sealed class TextResponder(ServedModel model, ServerMetrics metrics, ILogger log, string? requestedModel, List<string> echoes, bool logprobs)
        : CompletionResponder(model, metrics, log, requestedModel)
    {
        private readonly System.Text.StringBuilder[] _texts = [.. echoes.Select(e => new System.Text.StringBuilder(e))];
        private readonly List<GeneratedToken>[] _tokens = [.. echoes.Select(_ => new List<GeneratedToken>())];
        private readonly string?[] _reasons = new string?[echoes.Count];

        protected override string ChunkObject => "text_completion";

        protected override IEnumerable<JsonObject> OnStart(int count)
        {
            for (int i = 0; i < echoes.Count; i++)
                if (echoes[i].Length > 0) yield return Choice(i, echoes[i], null, null);
        }

        protected override JsonObject? OnToken(int index, GeneratedToken token)
        {
            _texts[index].Append(token.Text);
            if (logprobs && token.TokenId >= 0) _tokens[index].Add(token);
            if (token.Text.Length == 0 && !(logprobs && token.TokenId >= 0)) return null;
            var lp = logprobs && token.TokenId >= 0 ? LogprobJson.Completion(Model.Tokenizer, [token], _texts[index].Length - token.Text.Length) : null;
            return Choice(index, token.Text, lp, null);
        }

        protected override (IEnumerable<JsonObject> Chunks, string FinishReason) OnFinished(int index, GenerationResult result)
        {
            string reason = result.FinishReason == FinishReason.Length ? "length" : "stop";
            _reasons[index] = reason;
            return ([Choice(index, "", null, reason)], reason);
        }

        protected override JsonObject FinalBody(JsonObject usage)
        {
            var array = new JsonArray();
            for (int i = 0; i < _texts.Length; i++)
                array.Add(Choice(i, _texts[i].ToString(), logprobs ? LogprobJson.Completion(Model.Tokenizer, _tokens[i], echoes[i].Length) : null, _reasons[i]));
            return new JsonObject
            {
                ["id"] = Id,
                ["object"] = "text_completion",
                ["created"] = Created,
                ["model"] = ModelName,
                ["choices"] = array,
                ["usage"] = usage,
            };
        }

        private static JsonObject Choice(int index, string text, JsonObject? logprobs, string? finishReason) => new()
        {
            ["index"] = index,
            ["text"] = text,
            ["logprobs"] = logprobs,
            ["finish_reason"] = finishReason,
        };
    }
}
