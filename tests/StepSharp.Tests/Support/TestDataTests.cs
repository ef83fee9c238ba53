namespace StepSharp.Tests.Support;

public class TestDataTests
{
    [Fact]
    public void SharedTestdataIsFoundInCi()
    {
        // CI always has ../shared beside the clone; a developer machine may not.
        if (Environment.GetEnvironmentVariable("CI") == "true")
            Assert.NotNull(TestData.RootOrNull);
        else if (TestData.RootOrNull is null)
            Assert.Skip("no ../shared/testdata here");
        Assert.True(Directory.Exists(TestData.RootOrNull));
    }
}
