using Spectre.Console;

namespace MeshActors.Cli;

/// <summary>Where the command writes: Spectre.Console markup on a terminal, plain parseable lines when stdout is redirected.</summary>
/// <remarks>Results go to stdout; errors and logs go to stderr, so <c>mesh topic echo t | jq</c> sees only messages.</remarks>
internal static class Terminal
{
    /// <summary>True when stdout is a terminal: live progress, colours and boxed tables.</summary>
    public static bool IsInteractive { get; } = !Console.IsOutputRedirected;

    private static readonly bool ErrorIsTerminal = !Console.IsErrorRedirected;

    /// <summary>Writes a result line: <paramref name="markup"/> on a terminal, <paramref name="plain"/> when redirected.</summary>
    public static void Line(string markup, string plain) => Write(IsInteractive, () =>
    {
        if (IsInteractive)
            AnsiConsole.MarkupLine(markup);
        else
            Console.Out.WriteLine(plain);
    });

    /// <summary>Writes a plain result line, the same on a terminal and redirected.</summary>
    public static void Line(string plain) => Write(IsInteractive, () =>
    {
        if (IsInteractive)
            AnsiConsole.WriteLine(plain);
        else
            Console.Out.WriteLine(plain);
    });

    /// <summary>Writes a status note: dimmed on a terminal, on stderr when redirected, so it never mixes with results.</summary>
    public static void Note(string text) => Write(IsInteractive || ErrorIsTerminal, () =>
    {
        if (IsInteractive)
            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(text)}[/]");
        else
            Console.Error.WriteLine(text);
    });

    /// <summary>Writes one error line on stderr.</summary>
    public static void Error(string message) => Write(ErrorIsTerminal, () => Console.Error.WriteLine($"mesh: {message}"));

    /// <summary>Escapes text for Spectre markup.</summary>
    public static string Escape(string text) => Markup.Escape(text);

    /// <summary>
    /// Once a terminal hangs up (its window closed) every write to it fails with EIO: nobody can read it any more, so
    /// drop it as .NET drops writes to a closed pipe, and let a command that is stopping (mesh launch) go on stopping.
    /// </summary>
    private static void Write(bool toTerminal, Action write)
    {
        try
        {
            write();
        }
        catch (IOException) when (toTerminal)
        {
        }
    }
}
