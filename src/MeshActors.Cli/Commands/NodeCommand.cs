using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Replication;

namespace MeshActors.Cli.Commands;

/// <summary>
/// <c>mesh node --name N [--port P] [--dict D]</c>: runs a node until Ctrl+C or SIGTERM; it answers ping, hosts the <c>echo</c>
/// service, answers raw channel messages (plain Marketrix peers) with numbered messages of its own, and holds the
/// replicated dictionaries it is told to open.
/// </summary>
internal static class NodeCommand
{
    /// <summary>The built-in service that answers each request with the request itself.</summary>
    public const string EchoService = "echo";

    /// <summary>The environment variable <c>mesh launch</c> sets to each entry's name.</summary>
    public const string NameVariable = "MESH_NODE_NAME";

    /// <summary>How long a node opening a dictionary waits to reach the nodes the registry shows holding it.</summary>
    private static readonly TimeSpan DictionaryJoinWait = TimeSpan.FromSeconds(5);

    public static Command Create()
    {
        var name = new Option<string>("--name", "-n")
        {
            Description = $"Node name; nodes with the same name form a group. Default: ${NameVariable} (set by mesh launch).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(NameVariable) ?? "",
        };
        var port = new Option<int>("--port", "-p") { Description = "Port to listen on; 0 picks a free one.", DefaultValueFactory = _ => 0 };
        var host = new Option<string?>("--host") { Description = "Address to listen on, e.g. 0.0.0.0 for other machines; 127.0.0.1 when omitted." };
        var advertise = new Option<string?>("--advertise") { Description = "Host name other nodes dial; the listen address when omitted." };
        var dictionaries = new Option<string[]>("--dict")
        {
            Description = "Keep this replicated dictionary open (repeatable), so that mesh dict commands find its data here; it lives while some node holds it open.",
            HelpName = "name",
        };
        var command = new Command("node", "Run a node until Ctrl+C or SIGTERM; it answers ping and hosts the echo service.") { name, port, host, advertise, dictionaries };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            if (parseResult.GetValue(name) is not { Length: > 0 } nodeName)
                throw new CliException("mesh node needs a name: --name N.");
            var listen = new Listen(parseResult.GetValue(port), parseResult.GetValue(host), parseResult.GetValue(advertise)).Validated();
            // A closed terminal (SIGHUP) stops the node as Ctrl+C does: it leaves the mesh rather than be killed in it,
            // its registration left for the others to expire.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true;
                stop.Cancel();
            });
            return await RunAsync(parseResult, nodeName, listen, parseResult.GetValue(dictionaries) ?? [], stop.Token);
        });
        return command;
    }

    /// <summary>Waits (up to <see cref="DictionaryJoinWait"/>) for the registry to be read, so that the nodes holding a dictionary are known.</summary>
    private static async Task JoinedAsync(IMesh mesh, CancellationToken cancellationToken)
    {
        try
        {
            await mesh.Joined.WaitAsync(DictionaryJoinWait, cancellationToken);
        }
        catch (TimeoutException)
        {
            Terminal.Note($"the registry was not read within {DictionaryJoinWait.TotalSeconds:0} s: opening the dictionaries with the nodes known so far");
        }
    }

    private static async Task<int> RunAsync(ParseResult parseResult, string name, Listen listen, string[] dictionaryNames, CancellationToken cancellationToken)
    {
        // Ctrl+C or SIGTERM is the ordinary way to stop a node, also while it starts (its registry unreachable, its
        // dictionaries opening), so the cancellation is the success path here.
        MeshSession session;
        try
        {
            session = await MeshSession.JoinAsync(parseResult, name, listen, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Success;
        }

        var dictionaries = new List<ReplicatedDictionary<JsonElement>>();
        try
        {
            var mesh = session.Mesh;
            var self = mesh.Self;
            var discovery = parseResult.GetRequiredValue(CommonOptions.Discovery);
            using var echo = mesh.AddService<JsonElement, JsonElement>(EchoService, static (request, _, _) => ValueTask.FromResult(request.Clone()));
            using var raw = mesh.Subscribe<JsonElement>(IMesh.ChannelTopic, new RawMessageAnswerer(mesh).AnswerAsync);
            // Members seen before the banner are printed after it: scripts read the banner as the first line.
            var membershipLines = new HeldLines<MemberEvent>(PrintMemberEvent);
            using var membership = mesh.OnMembership(membershipLines.Add);
            await Task.WhenAll(echo.Ready, raw.Ready);
            // Open before the banner, once connected to the nodes holding them already: a script that waits for it then
            // finds the dictionaries' data here.
            if (dictionaryNames.Length > 0)
            {
                await JoinedAsync(mesh, cancellationToken);
                dictionaries.AddRange(await Task.WhenAll(dictionaryNames.Distinct(StringComparer.Ordinal)
                    .Select(dictionary => DictionaryReplicas.OpenAsync(mesh, dictionary, DictionaryJoinWait, Holders.Known, cancellationToken))));
            }

            Terminal.Line(
                $"[green]●[/] node [bold]{Terminal.Escape(self.Name)}[/] [grey]{self.Id}[/] listening on [bold]{Terminal.Escape(self.Address)}[/] [grey](discovery {Terminal.Escape(discovery)}; Ctrl+C stops)[/]",
                $"node name={self.Name} id={self.Id} address={self.Address} discovery={discovery}");
            foreach (var dictionary in dictionaries)
            {
                Terminal.Line(
                    $"[green]●[/] dictionary [bold]{Terminal.Escape(dictionary.Name)}[/] open [grey]({dictionary.Count} keys)[/]",
                    $"dictionary name={dictionary.Name} keys={dictionary.Count}");
            }

            membershipLines.Release();

            await cancellationToken.WhenCancelled();
            Terminal.Line("[grey]stopping: leaving the mesh[/]", "stopping");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Terminal.Line("[grey]stopping: leaving the mesh[/]", "stopping");
        }
        finally
        {
            foreach (var dictionary in dictionaries)
                await dictionary.DisposeAsync();
            await session.DisposeAsync();
        }

        Terminal.Line("[grey]stopped[/]", "stopped");
        return ExitCodes.Success;
    }

    private static void PrintMemberEvent(MemberEvent memberEvent)
    {
        var m = memberEvent.Member;
        switch (memberEvent)
        {
            case MemberUp:
                Terminal.Line($"[green]+[/] {Terminal.Escape(m.Name)} [grey]{m.Id}[/] joined at {Terminal.Escape(m.Address)}", $"member-up name={m.Name} id={m.Id} address={m.Address}");
                break;
            case MemberDown down:
                Terminal.Line($"[red]-[/] {Terminal.Escape(m.Name)} [grey]{m.Id}[/] {(down.Reason == MemberDownReason.Left ? "left" : "expired")}", $"member-down name={m.Name} id={m.Id} reason={down.Reason}");
                break;
            case MemberUpdated:
                Terminal.Line($"[yellow]~[/] {Terminal.Escape(m.Name)} [grey]{m.Id}[/] topics: {Terminal.Escape(string.Join(", ", m.Topics))}; services: {Terminal.Escape(string.Join(", ", m.Services))}",
                    $"member-updated name={m.Name} id={m.Id} topics={string.Join(',', m.Topics)} services={string.Join(',', m.Services)}");
                break;
        }
    }
}
