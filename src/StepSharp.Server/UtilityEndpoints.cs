using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace StepSharp.Server;

/// <summary>POST /tokenize, /detokenize and /apply-template (llama.cpp server shapes), for clients that count or inspect tokens.</summary>
internal static class UtilityEndpoints
{
    /// <summary><c>{"content": text, "add_special": false, "with_pieces": false}</c> → <c>{"tokens": [...]}</c>.</summary>
    public static async Task<IResult> TokenizeAsync(HttpContext context, ServedModel model)
    {
        var body = JsonFields.ParseBody(await RequestBody.ReadAsync(context).ConfigureAwait(false));
        string content = JsonFields.String(body, "content") ?? throw ApiException.BadRequest("'content' is required", "content");
        bool addSpecial = JsonFields.Bool(body, "add_special") ?? false;
        bool parseSpecial = JsonFields.Bool(body, "parse_special") ?? true;
        bool withPieces = JsonFields.Bool(body, "with_pieces") ?? false;
        int[] ids = model.Tokenizer.Encode(content, addSpecial, parseSpecial);
        var tokens = new JsonArray();
        foreach (int id in ids)
            tokens.Add(withPieces ? new JsonObject { ["id"] = id, ["piece"] = LogprobJson.TokenText(model.Tokenizer, id) } : JsonValue.Create(id));
        return Json.Result(new JsonObject { ["tokens"] = tokens });
    }

    /// <summary><c>{"tokens": [...]}</c> → <c>{"content": text}</c>.</summary>
    public static async Task<IResult> DetokenizeAsync(HttpContext context, ServedModel model)
    {
        var body = JsonFields.ParseBody(await RequestBody.ReadAsync(context).ConfigureAwait(false));
        var array = JsonFields.Array(body, "tokens") ?? throw ApiException.BadRequest("'tokens' is required", "tokens");
        var ids = new int[array.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            if (array[i] is not JsonValue v || !v.TryGetValue(out int id) || id < 0 || id >= model.VocabSize)
                throw ApiException.BadRequest($"'tokens[{i}]' must be a token id in 0..{model.VocabSize - 1}, got {array[i]?.ToJsonString() ?? "null"}", "tokens");
            ids[i] = id;
        }
        return Json.Result(new JsonObject { ["content"] = model.Tokenizer.Decode(ids) });
    }

    /// <summary>A chat request's <c>messages</c> (and <c>tools</c>) → <c>{"prompt": text}</c>, the exact text the model would see.</summary>
    public static async Task<IResult> ApplyTemplateAsync(HttpContext context, ServedModel model)
    {
        var body = JsonFields.ParseBody(await RequestBody.ReadAsync(context).ConfigureAwait(false));
        var request = ChatRequestReader.Read(body, model, int.MaxValue);
        var formatter = model.Formatter ?? throw ApiException.BadRequest("the model has no chat template", "messages", "no_chat_template");
        return Json.Result(new JsonObject { ["prompt"] = ChatCompletionsEndpoint.Render(formatter, request.Messages, request.Tools) });
    }
}
