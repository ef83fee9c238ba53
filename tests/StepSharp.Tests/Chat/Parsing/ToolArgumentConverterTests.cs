using StepSharp.Chat.Parsing;

namespace StepSharp.Tests.Chat.Parsing;

/// <summary>Value conversion by schema type (spec §6.3 step 4, testdata README rule 4); expectations written by hand.</summary>
public class ToolArgumentConverterTests
{
    [Theory]
    [InlineData("42", ToolParameterKind.Integer, "42")]
    [InlineData(" +007 ", ToolParameterKind.Integer, "7")]
    [InlineData("-14", ToolParameterKind.Integer, "-14")]
    [InlineData("123456789012345678901234567890", ToolParameterKind.Integer, "123456789012345678901234567890")]
    [InlineData("4.5", ToolParameterKind.Integer, "\"4.5\"")]
    [InlineData("two", ToolParameterKind.Integer, "\"two\"")]
    [InlineData("3.14", ToolParameterKind.Number, "3.14")]
    [InlineData("3.0", ToolParameterKind.Number, "3")]
    [InlineData("1e3", ToolParameterKind.Number, "1000")]
    [InlineData("-0.5", ToolParameterKind.Number, "-0.5")]
    [InlineData("Infinity", ToolParameterKind.Number, "\"Infinity\"")]
    [InlineData("12abc", ToolParameterKind.Number, "\"12abc\"")]
    [InlineData("True", ToolParameterKind.Boolean, "true")]
    [InlineData("FALSE", ToolParameterKind.Boolean, "false")]
    [InlineData("1", ToolParameterKind.Boolean, "true")]
    [InlineData("0", ToolParameterKind.Boolean, "false")]
    [InlineData("yes", ToolParameterKind.Boolean, "\"yes\"")]
    [InlineData("NULL", ToolParameterKind.String, "null")]
    [InlineData("null", ToolParameterKind.Integer, "null")]
    [InlineData("nullable", ToolParameterKind.String, "\"nullable\"")]
    [InlineData("5123123", ToolParameterKind.String, "\"5123123\"")]
    [InlineData("a \"q\" \\ \t", ToolParameterKind.String, "\"a \\\"q\\\" \\\\ \\t\"")]
    [InlineData("東京", ToolParameterKind.String, "\"東京\"")]
    public void ScalarConversion(string value, ToolParameterKind kind, string expectedJson)
    {
        Assert.Equal(expectedJson, ToolArgumentConverter.ToJson(value, kind));
    }

    [Theory]
    [InlineData("{\"a\": [1, 2.5, \"x\"], \"b\": null}", "{\"a\":[1,2.5,\"x\"],\"b\":null}")]
    [InlineData("{'check': True, 'cwd': None}", "{\"check\": true, \"cwd\": null}")]
    [InlineData("(1, 'two', [3,],)", "[1, \"two\", [3]]")]
    [InlineData("{'it\\'s': 'a\\nb', 1: -2.5e1}", "{\"it's\": \"a\\nb\", \"1\": -25}")]
    [InlineData("{\"k\": \"東京\"}", "{\"k\":\"東京\"}")]
    [InlineData("{broken", "\"{broken\"")]
    [InlineData("[1, 2", "\"[1, 2\"")]
    [InlineData("{'a': undefined}", "\"{'a': undefined}\"")]
    public void ContainerConversion(string value, string expectedJson)
    {
        Assert.Equal(expectedJson, ToolArgumentConverter.ToJson(value, ToolParameterKind.Container));
    }
}
