using System.Text;
using System.Text.Json.Nodes;
using StepSharp.Inference;
using StepSharp.Tokenization;

namespace StepSharp.Server;

/// <summary>OpenAI <c>logprobs</c> entries of generated tokens (chat: <c>content[]</c>; completions: parallel arrays).</summary>
internal static class LogprobJson
{
    /// <summary>A token's text as the API shows it: its bytes decoded (a partial UTF-8 character shows as U+FFFD, its bytes stay exact).</summary>
    public static string TokenText(ITokenizer tokenizer, int id) => Encoding.UTF8.GetString(tokenizer.TokenBytes(id));

    private static JsonArray Bytes(ITokenizer tokenizer, int id)
    {
        var array = new JsonArray();
        foreach (byte b in tokenizer.TokenBytes(id)) array.Add(b);
        return array;
    }

    /// <summary>One chat <c>logprobs.content</c> entry.</summary>
    public static JsonObject ChatEntry(ITokenizer tokenizer, GeneratedToken token)
    {
        var top = new JsonArray();
        foreach (var alt in token.TopLogprobs ?? [])
            top.Add(new JsonObject { ["token"] = TokenText(tokenizer, alt.TokenId), ["logprob"] = alt.Logprob, ["bytes"] = Bytes(tokenizer, alt.TokenId) });
        return new JsonObject
        {
            ["token"] = TokenText(tokenizer, token.TokenId),
            ["logprob"] = token.Logprob,
            ["bytes"] = Bytes(tokenizer, token.TokenId),
            ["top_logprobs"] = top,
        };
    }

    /// <summary>Legacy completions <c>logprobs</c>: tokens, token_logprobs, top_logprobs (token → logprob maps), text_offset.</summary>
    public static JsonObject Completion(ITokenizer tokenizer, IReadOnlyList<GeneratedToken> tokens, int textOffset)
    {
        var texts = new JsonArray();
        var logprobs = new JsonArray();
        var tops = new JsonArray();
        var offsets = new JsonArray();
        int offset = textOffset;
        foreach (var t in tokens)
        {
            string text = TokenText(tokenizer, t.TokenId);
            texts.Add(text);
            logprobs.Add(t.Logprob);
            var top = new JsonObject();
            foreach (var alt in t.TopLogprobs ?? []) top[TokenText(tokenizer, alt.TokenId)] = alt.Logprob;
            tops.Add(top);
            offsets.Add(offset);
            offset += text.Length;
        }
        return new JsonObject { ["tokens"] = texts, ["token_logprobs"] = logprobs, ["top_logprobs"] = tops, ["text_offset"] = offsets };
    }
}
