using Spectre.Console;

namespace StepSharp.Cli;

/// <summary>
/// Runs work that reports (done, total) progress and shows a progress bar on stderr only if it is still
/// running after a second, so quick prompts print nothing extra.
/// </summary>
internal static class PrefillProgress
{
    public static async Task<T> RunAsync<T>(IAnsiConsole console, Func<Action<int, int>, CancellationToken, T> work, CancellationToken cancellation)
    {
        int done = 0, total = 0;
        using var finished = new ManualResetEventSlim();
        var task = Task.Run(() =>
        {
            try
            {
                return work((d, t) => { Volatile.Write(ref total, t); Volatile.Write(ref done, d); if (d >= t) finished.Set(); }, cancellation);
            }
            finally
            {
                finished.Set();
            }
        }, cancellation);
        if (!finished.Wait(TimeSpan.FromSeconds(1), CancellationToken.None) && !Console.IsErrorRedirected)
        {
            console.Progress().AutoClear(true).Start(ctx =>
            {
                var bar = ctx.AddTask("prefill", maxValue: Math.Max(1, Volatile.Read(ref total)));
                while (!finished.Wait(100))
                {
                    bar.MaxValue = Math.Max(1, Volatile.Read(ref total));
                    bar.Value = Volatile.Read(ref done);
                }
                bar.Value = bar.MaxValue;
            });
        }
        return await task;
    }
}
