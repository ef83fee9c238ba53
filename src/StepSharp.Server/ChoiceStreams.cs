using System.Threading.Channels;
using StepSharp.Inference;

namespace StepSharp.Server;

/// <summary>An event of one of a request's choices, or the error that ended that choice.</summary>
internal readonly record struct ChoiceEvent(int Index, CompletionEvent? Event, Exception? Error);

/// <summary>Runs a request's <c>n</c> choices as separate engine requests (they batch together) and merges their events in arrival order.</summary>
internal static class ChoiceStreams
{
    public static ChannelReader<ChoiceEvent> Start(ICompletionEngine engine, IReadOnlyList<CompletionRequest> requests, CancellationToken cancellationToken)
    {
        var channel = Channel.CreateUnbounded<ChoiceEvent>(new UnboundedChannelOptions { SingleReader = true });
        int remaining = requests.Count;
        for (int i = 0; i < requests.Count; i++)
        {
            int index = i;
            _ = Task.Run(async () =>
            {
                try
                {
                    await foreach (var e in engine.StreamAsync(requests[index], cancellationToken).ConfigureAwait(false))
                        channel.Writer.TryWrite(new ChoiceEvent(index, e, null));
                }
                catch (Exception e)
                {
                    channel.Writer.TryWrite(new ChoiceEvent(index, null, e));
                }
                finally
                {
                    if (Interlocked.Decrement(ref remaining) == 0) channel.Writer.TryComplete();
                }
            }, CancellationToken.None);
        }
        return channel.Reader;
    }
}
