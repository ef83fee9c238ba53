using System.Text.Json.Nodes;
using StepSharp.Chat.Templates;
using static StepSharp.Tests.Chat.Templates.TemplateTestHelper;

namespace StepSharp.Tests.Chat.Templates;

/// <summary>Syntax errors name the line and construct; runtime errors behave like Jinja2's (and name the line).</summary>
public sealed class ChatTemplateErrorTests
{
    [Fact]
    public void ExtendsIsRejectedWithItsLine()
    {
        var ex = Assert.Throws<TemplateSyntaxException>(() => ChatTemplate.Parse("line one\n{% extends 'base.html' %}", "my.jinja"));
        Assert.Equal(2, ex.Line);
        Assert.Contains("extends", ex.Message);
        Assert.Contains("my.jinja", ex.Message);
    }

    [Theory]
    [InlineData("{% if true %}never closed", 1)]
    [InlineData("ok\n{{ 1 + }}", 2)]
    [InlineData("\n\n{% frobnicate %}", 3)]
    [InlineData("{{ x | no_such_filter }}", 1)]
    [InlineData("{{ x is no_such_test }}", 1)]
    [InlineData("{{ 'unterminated }}", 1)]
    [InlineData("a\n{% for x in y %}\n{% endif %}", 3)]
    public void MalformedTemplatesFailAtParseTimeNamingTheLine(string source, int line)
    {
        var ex = Assert.Throws<TemplateSyntaxException>(() => ChatTemplate.Parse(source));
        Assert.Equal(line, ex.Line);
    }

    [Fact]
    public void HostileNestingIsASyntaxErrorNotAStackOverflow()
    {
        Assert.Throws<TemplateSyntaxException>(() => ChatTemplate.Parse("{{ " + new string('(', 5000) + "1" + new string(')', 5000) + " }}"));
        Assert.Throws<TemplateSyntaxException>(() => ChatTemplate.Parse(string.Concat(Enumerable.Repeat("{% if true %}", 5000))));
    }

    [Fact]
    public void RunawayMacroRecursionRaisesRecursionError()
    {
        var ex = Assert.ThrowsAny<TemplateRuntimeException>(() => Render("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"));
        Assert.Contains("RecursionError", ex.Message);
    }

    [Fact]
    public void LongOperatorChainsRenderOrFailCleanly()
    {
        string source = "{{ " + string.Join(" + ", Enumerable.Repeat("1", 3000)) + " }}";
        try
        {
            Assert.Equal("3000", Render(source));
        }
        catch (TemplateRuntimeException)
        {
            // Acceptable on a small stack: what matters is that the process survives.
        }
    }

    [Fact]
    public void RaiseExceptionCarriesTheTemplateMessageVerbatim()
    {
        var ex = Assert.Throws<TemplateRaisedException>(() => Render("a\n{{ raise_exception('Only user and assistant roles are supported!') }}"));
        Assert.Equal("Only user and assistant roles are supported!", ex.Message);
        Assert.Equal(2, ex.Line);
    }

    [Theory]
    [InlineData("a\nb\n{{ 1 + 'x' }}", 3, "TypeError")]
    [InlineData("{{ missing.attr }}", 1, "'missing' is undefined")]
    [InlineData("{{ {'a': 1}.b.c }}", 1, "has no attribute 'b'")]
    [InlineData("{% for x in none %}{% endfor %}", 1, "'NoneType' object is not iterable")]
    [InlineData("{% set l = [1] %}\n{{ l.append(2) }}", 2, "SecurityError")]
    [InlineData("{{ missing + 'x' }}", 1, "UndefinedError")]
    [InlineData("{{ 1 // 0 }}", 1, "ZeroDivisionError")]
    [InlineData("{% macro m() %}\n\nx{% endmacro %}\n{{ m().nope.x }}", 4, "has no attribute 'nope'")]
    [InlineData("{{ (1, 2) | tojson }}{{ missing | tojson }}", 1, "not JSON serializable")]
    public void RuntimeErrorsNameTheLineAndCause(string source, int line, string fragment)
    {
        var ex = Assert.ThrowsAny<TemplateRuntimeException>(() => Render(source));
        Assert.IsNotType<TemplateRaisedException>(ex);
        Assert.Equal(line, ex.Line);
        Assert.Contains(fragment, ex.Message);
    }

    [Fact]
    public void RenderChatPassesToolsAsNoneAndOmitsUnsetTokens()
    {
        var template = ChatTemplate.Parse("{{ tools is defined }}{{ tools is none }}{{ bos_token is defined }}{{ eos_token }}{{ documents is none }}{{ enable_thinking }}");
        var messages = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" });
        string text = ChatTemplateRenderer.RenderChat(template, messages, null, true, null, "</s>",
            new Dictionary<string, JsonNode?> { ["enable_thinking"] = false });
        Assert.Equal("TrueTrueFalse</s>TrueFalse", text);
    }

    [Fact]
    public void RenderFromJsonObject()
    {
        var template = ChatTemplate.Parse("{{ messages[0].content }}|{{ x }}|{{ y }}");
        var vars = JsonNode.Parse("""{"messages": [{"content": "hé"}], "x": 1.0, "y": null}""")!.AsObject();
        Assert.Equal("hé|1.0|None", template.Render(vars));
    }
}
