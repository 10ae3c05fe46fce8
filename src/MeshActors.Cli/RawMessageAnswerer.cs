using System.Text.Json;
using MeshActors.Messaging;

namespace MeshActors.Cli;

/// <summary>Prints each raw channel message and answers it with a numbered one, as the two peers of the Marketrix demo stream to each other.</summary>
internal sealed class RawMessageAnswerer(IMesh mesh)
{
    private long _answered;

    public async ValueTask AnswerAsync(JsonElement message, MessageContext context)
    {
        var json = JsonText.Of(message);
        Terminal.Line(
            $"[blue]raw[/] from [bold]{Terminal.Escape(context.SenderName)}[/]: {Terminal.Escape(json)}",
            $"raw from={context.SenderName} id={context.SenderId} data={json}");
        var n = Interlocked.Increment(ref _answered) - 1;
        try
        {
            await mesh.SendAsync(context.SenderId, new RawAnswer($"Message from {mesh.Self.Name} #{n}", mesh.Self.Name, n)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Terminal.Note($"cannot answer {context.SenderName}: {e.Message}");
        }
    }

    /// <summary>The shape of the Marketrix demo's messages: <c>{"message":"Message from Node #0","from":"node-peer","n":0}</c>.</summary>
    private sealed record RawAnswer(string Message, string From, long N);
}
