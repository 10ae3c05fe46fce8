using Spectre.Console;

namespace MeshActors.Cli;

/// <summary>Where the command writes: Spectre.Console markup on a terminal, plain parseable lines when stdout is redirected.</summary>
/// <remarks>Results go to stdout; errors and logs go to stderr, so <c>mesh topic echo t | jq</c> sees only messages.</remarks>
internal static class Terminal
{
    /// <summary>True when stdout is a terminal: live progress, colours and boxed tables.</summary>
    public static bool IsInteractive { get; } = !Console.IsOutputRedirected;

    /// <summary>Writes a result line: <paramref name="markup"/> on a terminal, <paramref name="plain"/> when redirected.</summary>
    public static void Line(string markup, string plain)
    {
        if (IsInteractive)
            AnsiConsole.MarkupLine(markup);
        else
            Console.Out.WriteLine(plain);
    }

    /// <summary>Writes a plain result line, the same on a terminal and redirected.</summary>
    public static void Line(string plain)
    {
        if (IsInteractive)
            AnsiConsole.WriteLine(plain);
        else
            Console.Out.WriteLine(plain);
    }

    /// <summary>Writes a status note: dimmed on a terminal, on stderr when redirected, so it never mixes with results.</summary>
    public static void Note(string text)
    {
        if (IsInteractive)
            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(text)}[/]");
        else
            Console.Error.WriteLine(text);
    }

    /// <summary>Writes one error line on stderr.</summary>
    public static void Error(string message) => Console.Error.WriteLine($"mesh: {message}");

    /// <summary>Escapes text for Spectre markup.</summary>
    public static string Escape(string text) => Markup.Escape(text);
}
