using System.CommandLine;
using MeshActors.Messaging;

namespace MeshActors.Cli;

/// <summary>Runs a command's action so that every failure ends as one clear line on stderr and a non-zero exit code.</summary>
internal static class CliAction
{
    public static void Set(Command command, Func<ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                // System.CommandLine hooks SIGINT and SIGTERM only once the action first yields: yield before any work
                // (a child process, a node), so that a signal never finds the process without its handler.
                await Task.Yield();
                return await action(parseResult, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return ExitCodes.Interrupted;
            }
            catch (Exception e)
            {
                Terminal.Error(Describe(e));
                return ExitCodes.Failure;
            }
        });

    /// <summary>One line a person can act on; the type name only where the message alone would be cryptic.</summary>
    private static string Describe(Exception e)
    {
        var message = e switch
        {
            CliException or NoServiceProviderException or RemoteServiceException or TimeoutException
                or ArgumentException or IOException or UnauthorizedAccessException => e.Message,
            _ => $"{e.GetType().Name}: {e.Message}",
        };
        return message.ReplaceLineEndings(" ");
    }
}
