using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StepSharp.Chat;
using StepSharp.Chat.Templates;
using StepSharp.Inference;

namespace StepSharp.Server;

/// <summary>
/// POST /v1/chat/completions: render the conversation with the model's chat template, generate <c>n</c> choices,
/// parse reasoning and tool calls out of the text. <c>tool_choice</c> none hides the tools; required and a named choice
/// force the answer (after the reasoning) to open with a tool call (of that function); <c>response_format</c>
/// json_object (and json_schema, as to its being one JSON object: the schema itself is not enforced) forces the answer
/// to be one JSON object. Both by constrained decoding.
/// </summary>
internal static class ChatCompletionsEndpoint
{
    public static async Task<IResult> HandleAsync(HttpContext context, ServedModel model, ServerOptions options, ServerMetrics metrics, ILogger log)
    {
        var body = JsonFields.ParseBody(await RequestBody.ReadAsync(context).ConfigureAwait(false));
        var request = ChatRequestReader.Read(body, model, options.MaxChoices);
        var formatter = model.Formatter ?? throw ApiException.BadRequest("the model has no chat template; use /v1/completions", "messages", "no_chat_template");
        string prompt = Render(formatter, request.Messages, request.Tools);
        int[] ids = model.EncodePrompt(prompt, templated: true);
        model.CheckFits(ids.Length, "messages");
        bool thinking = ChatPromptFormatter.OpensThinking(prompt);

        var g = request.Generation;
        var requests = new CompletionRequest[g.Choices];
        var constraint = OutputConstraint(request, formatter, thinking);
        for (int i = 0; i < requests.Length; i++)
            requests[i] = new CompletionRequest { PromptTokens = ids, Options = g.ForChoice(i, ids.Length, model.ContextLength) with { Constraint = constraint } };
        var choices = new ChatChoice[g.Choices];
        for (int i = 0; i < choices.Length; i++)
            choices[i] = new ChatChoice(i, formatter.OutputFormat, request.Tools, thinking, request.ParallelToolCalls, model.Tokenizer);
        var responder = new ChatResponder(model, metrics, log, request.Model, choices, g.Options.Logprobs) { Id = Json.NewId("chatcmpl-") };
        return await responder.RunAsync(context, requests, ids.Length, g.Stream, g.IncludeUsage).ConfigureAwait(false);
    }

    /// <summary>The constrained-decoding rule of the request, applied after the reasoning when the prompt opened a think block.</summary>
    private static Func<Inference.Constraints.IOutputConstraint>? OutputConstraint(ChatRequest request, ChatPromptFormatter formatter, bool thinking)
    {
        Func<Inference.Constraints.IOutputConstraint>? inner = null;
        if (formatter.OutputFormat == "step35" && request.Tools is { Count: > 0 } && request.ToolChoice is ToolChoiceMode.Required or ToolChoiceMode.Named)
        {
            // Step 3.5 tool-call syntax (spec §6.1): <tool_call>\n<function=NAME>\n…
            string prefix = request.ToolChoice == ToolChoiceMode.Named ? $"<tool_call>\n<function={request.ToolName}>" : "<tool_call>\n<function=";
            inner = () => new Inference.Constraints.ForcedPrefixConstraint(prefix);
        }
        else if (request.ResponseFormat is "json_object" or "json_schema")
        {
            inner = () => new Inference.Constraints.JsonObjectConstraint();
        }
        if (inner is null || !thinking) return inner;
        return () => new Inference.Constraints.AfterReasoningConstraint(inner());
    }

    /// <summary>Template errors (a template's own <c>raise_exception</c>, a shape it cannot render) are the request's fault: 400.</summary>
    public static string Render(ChatPromptFormatter formatter, JsonArray messages, JsonArray? tools)
    {
        try
        {
            return formatter.Render(messages, tools);
        }
        catch (TemplateException e)
        {
            throw ApiException.BadRequest($"the chat template rejected the conversation: {e.Message}", "messages", "template_error");
        }
    }

    private sealed class ChatResponder(ServedModel model, ServerMetrics metrics, ILogger log, string? requestedModel, ChatChoice[] choices, bool logprobs)
        : CompletionResponder(model, metrics, log, requestedModel)
    {
        protected override string ChunkObject => "chat.completion.chunk";

        protected override IEnumerable<JsonObject> OnStart(int count)
        {
            foreach (var c in choices) yield return c.Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null, null);
        }

        protected override JsonObject? OnToken(int index, GeneratedToken token) => choices[index].Push(token, logprobs);

        protected override (IEnumerable<JsonObject> Chunks, string FinishReason) OnFinished(int index, GenerationResult result)
        {
            var chunks = choices[index].Finish(result).ToList();
            return (chunks, choices[index].FinishReason);
        }

        protected override JsonObject FinalBody(JsonObject usage)
        {
            var array = new JsonArray();
            foreach (var c in choices) array.Add(c.Message(logprobs));
            return new JsonObject
            {
                ["id"] = Id,
                ["object"] = "chat.completion",
                ["created"] = Created,
                ["model"] = ModelName,
                ["choices"] = array,
                ["usage"] = usage,
            };
        }
    }
}
