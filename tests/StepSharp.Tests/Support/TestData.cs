namespace StepSharp.Tests.Support;

/// <summary>
/// Locates the shared reference data (../shared/testdata beside the repo). On a machine without it,
/// tests that need it are skipped with a message saying so, so the README's test command still passes.
/// </summary>
public static class TestData
{
    private static readonly Lazy<string?> Root = new(FindRoot);

    /// <summary>The testdata folder, or null when it is not beside the repository.</summary>
    public static string? RootOrNull => Root.Value;

    /// <summary>Full path of a file under testdata; skips the calling test when the data is absent.</summary>
    public static string Path(params string[] parts)
    {
        string? root = Root.Value;
        if (root is null)
            Assert.Skip("../shared/testdata is not present (it is beside the repo in CI); set STEPSHARP_TESTDATA to run this test.");
        string full = System.IO.Path.Combine([root, .. parts]);
        if (!File.Exists(full) && !Directory.Exists(full))
            Assert.Skip($"reference file {full} is missing from the shared testdata.");
        return full;
    }

    private static string? FindRoot()
    {
        string? env = Environment.GetEnvironmentVariable("STEPSHARP_TESTDATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        // Walk up from the test binary: <repo>/tests/StepSharp.Tests/bin/... → <repo>/../shared/testdata
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null)
        {
            string candidate = System.IO.Path.Combine(dir.FullName, "shared", "testdata");
            if (Directory.Exists(candidate)) return candidate;
            candidate = System.IO.Path.Combine(dir.FullName, "..", "shared", "testdata");
            if (Directory.Exists(candidate)) return System.IO.Path.GetFullPath(candidate);
            dir = dir.Parent;
        }
        return null;
    }
}
