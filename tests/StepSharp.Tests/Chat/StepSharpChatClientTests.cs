using Microsoft.Extensions.AI;
using StepSharp.Chat;
using StepSharp.Inference;

namespace StepSharp.Tests.Chat;

public class StepSharpChatClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ReasoningContentAndUsageComeFromTheParsedTokens()
    {
        using var model = DemoModel.Load(1);
        const string output = "thinking it over\n</think>\nHello there!";
        var script = new ScriptedModelOutput(model.Tokenizer, output);
        using var engine = new SerialCompletionEngine(model, 2048, 64, script);
        using var client = new StepSharpChatClient(engine, ChatPromptFormatter.ForModel(model));

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: Ct);

        var message = Assert.Single(response.Messages);
        Assert.Equal(ChatRole.Assistant, message.Role);
        Assert.Equal("thinking it over", Assert.Single(message.Contents.OfType<TextReasoningContent>()).Text);
        Assert.Equal("Hello there!", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(script.Prompts[0].Length, response.Usage!.InputTokenCount);
        Assert.Equal(model.Tokenizer.Encode(output, addSpecial: false).Length, response.Usage.OutputTokenCount);
        // The template writes BOS itself, so the client must not add a second one.
        Assert.Equal(model.Tokenizer.BosId, script.Prompts[0][0]);
        Assert.NotEqual(model.Tokenizer.BosId, script.Prompts[0][1]);
    }

    [Fact]
    public async Task StreamingDeliversReasoningBeforeContentAndTheSameTextAsTheWholeResponse()
    {
        using var model = DemoModel.Load(1);
        const string output = "step one\nstep two\n</think>\nThe answer is 42.";
        using var engine = new SerialCompletionEngine(model, 2048, 64, new ScriptedModelOutput(model.Tokenizer, output));
        using var client = new StepSharpChatClient(engine, ChatPromptFormatter.ForModel(model));

        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Q")], cancellationToken: Ct)) updates.Add(u);

        Assert.True(updates.Count > 3, $"expected token-by-token updates, got {updates.Count}");
        var kinds = updates.SelectMany(u => u.Contents).Where(c => c is TextContent or TextReasoningContent).Select(c => c is TextReasoningContent).ToList();
        Assert.Equal(kinds.OrderByDescending(r => r), kinds); // all reasoning first
        Assert.Equal("step one\nstep two", string.Concat(updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>().Select(r => r.Text)));
        Assert.Equal("The answer is 42.", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
        Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>());
    }

    [Fact]
    public async Task MaxOutputTokensEndsWithLengthAndStopSequencesCutTheText()
    {
        using var model = DemoModel.Load(1);
        const string output = "r\n</think>\nalpha beta gamma delta";
        var script = new ScriptedModelOutput(model.Tokenizer, output, output);
        using var engine = new SerialCompletionEngine(model, 2048, 64, script);
        using var client = new StepSharpChatClient(engine, ChatPromptFormatter.ForModel(model));

        var cut = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Q")], new ChatOptions { MaxOutputTokens = 3 }, Ct);
        Assert.Equal(ChatFinishReason.Length, cut.FinishReason);
        Assert.Equal(3, cut.Usage!.OutputTokenCount);

        var stopped = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Q")], new ChatOptions { StopSequences = [" gamma"] }, Ct);
        Assert.Equal("alpha beta", stopped.Text);
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);
    }

    [Fact]
    public async Task ToolModeNoneHidesTheToolsFromThePrompt()
    {
        using var model = DemoModel.Load(1);
        var script = new ScriptedModelOutput(model.Tokenizer, "r\n</think>\nok", "r\n</think>\nok");
        using var engine = new SerialCompletionEngine(model, 2048, 64, script);
        using var client = new StepSharpChatClient(engine, ChatPromptFormatter.ForModel(model));
        var tool = AIFunctionFactory.Create((string q) => q, "lookup", "look something up");

        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Q")], new ChatOptions { Tools = [tool] }, Ct);
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Q")], new ChatOptions { Tools = [tool], ToolMode = ChatToolMode.None }, Ct);

        Assert.Contains("\"name\": \"lookup\"", script.DecodedPrompt(0));
        Assert.DoesNotContain("lookup", script.DecodedPrompt(1));
        Assert.DoesNotContain("# Tools", script.DecodedPrompt(1));
    }

    [Fact]
    public async Task ChatTemplateKwargsReachTheTemplate()
    {
        using var model = DemoModel.Load(1);
        var script = new ScriptedModelOutput(model.Tokenizer, "ok");
        using var engine = new SerialCompletionEngine(model, 2048, 64, script);
        var template = StepSharp.Chat.Templates.ChatTemplate.Parse("{{ bos_token }}mode={{ mode }};{{ messages[0].content }}\n", "kwargs-test");
        using var client = new StepSharpChatClient(engine, new ChatPromptFormatter(template, "<|bos|>", null, null));
        var options = new ChatOptions { AdditionalProperties = new() { [StepSharpChatClient.ChatTemplateKwargsKey] = new Dictionary<string, object?> { ["mode"] = "fast" } } };

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Q")], options, Ct);

        Assert.Equal("<|bos|>mode=fast;Q", script.DecodedPrompt(0)); // template source's final newline is dropped, as in Jinja
        Assert.Equal("ok", response.Text); // no output format: plain text is all content
    }

    [Fact]
    public async Task CancellationStopsARealGenerationPromptly()
    {
        using var model = DemoModel.Load(1);
        using var engine = new SerialCompletionEngine(model, 2048);
        using var client = new StepSharpChatClient(engine, ChatPromptFormatter.ForModel(model));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        int updates = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Tell a long story")],
                new ChatOptions { MaxOutputTokens = 1500, Temperature = 0 }, cts.Token))
            {
                if (++updates == 2) cts.Cancel();
            }
        });
        Assert.True(updates < 50, $"{updates} updates arrived after cancelling");
        // The engine is free again: a new request runs.
        var next = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], new ChatOptions { MaxOutputTokens = 2 }, Ct);
        Assert.Equal(2, next.Usage!.OutputTokenCount);
    }

    [Fact]
    public void StopTokensIncludeImEndButNotByteTokensThatShareStep35Ids()
    {
        using var model = DemoModel.Load(1);
        var ids = ChatGenerationSettings.EndOfGenerationIds(model.Tokenizer, "step35");
        int imEnd = model.Tokenizer.TryGetSpecialId("<|im_end|>")!.Value;
        Assert.Contains(imEnd, ids);
        // In this small vocabulary ids 1 and 2 are the bytes 0x01 and 0x02, not Step 3.5's end tokens.
        Assert.False(model.Tokenizer.IsControl(1));
        Assert.DoesNotContain(1, ids);
        Assert.DoesNotContain(2, ids);
    }

    [Fact]
    public void ChatOptionsOverrideTheDefaultSampling()
    {
        var defaults = new StepSharp.Inference.Sampling.SamplingOptions { Temperature = 0.7f, TopK = 40, MinP = 0.05f };
        var options = new ChatOptions
        {
            Temperature = 0.2f, TopP = 0.9f, TopK = 5, FrequencyPenalty = 0.5f, PresencePenalty = 0.25f, Seed = 99,
            MaxOutputTokens = 10, StopSequences = ["END"],
        };
        var g = ChatGenerationSettings.ToGenerationOptions(options, defaults, 500, [7]);
        Assert.Equal((0.2f, 0.9f, 5, 0.5f, 0.25f, 99UL, 0.05f), (g.Sampling.Temperature, g.Sampling.TopP, g.Sampling.TopK,
            g.Sampling.FrequencyPenalty, g.Sampling.PresencePenalty, g.Sampling.Seed!.Value, g.Sampling.MinP));
        Assert.Equal(10, g.MaxTokens);
        Assert.Equal(["END"], g.StopStrings);
        Assert.Equal([7], g.ExtraEndOfGenerationIds);
        // Unset options keep the defaults; the room left in the context bounds the length.
        var plain = ChatGenerationSettings.ToGenerationOptions(new ChatOptions { MaxOutputTokens = 900 }, defaults, 500, []);
        Assert.Equal((0.7f, 40, 500), (plain.Sampling.Temperature, plain.Sampling.TopK, plain.MaxTokens));
    }
}
