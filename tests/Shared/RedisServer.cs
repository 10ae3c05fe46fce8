using System.ComponentModel;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace MeshActors.Testing;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, with no persistence, started and stopped by the tests; it can
/// be stopped and started again on the same port in the middle of a test to play an outage.
/// </summary>
/// <remarks>Use as an xunit class fixture, or create one per test that stops it. A missing binary fails the test: it never skips.</remarks>
public sealed class RedisServer : IAsyncLifetime, IAsyncDisposable
{
    /// <summary>What a test says when the binary is missing.</summary>
    public const string InstallHint = "redis-server is not installed; the discovery tests start their own. Install it with `apt-get install redis-server` (.ci/run does this).";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private readonly StringBuilder _output = new();
    private Process? _process;

    /// <summary>The loopback port the server listens on: a free one, kept across restarts. Call <see cref="StartAsync"/> (xunit does, as a fixture).</summary>
    public int Port { get; } = FreePort.Next();

    /// <summary>A connection string for the registry: <c>127.0.0.1:{port}</c>.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Whether the server process is running.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts the server (again) and returns once it answers PING.</summary>
    public async Task StartAsync()
    {
        if (IsRunning)
            return;
        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning" })
            start.ArgumentList.Add(argument);

        try
        {
            _process = Process.Start(start) ?? throw new InvalidOperationException(InstallHint);
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException(InstallHint, ex);
        }

        _process.OutputDataReceived += (_, e) => Record(e.Data);
        _process.ErrorDataReceived += (_, e) => Record(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"redis-server on port {Port} exited with code {_process.ExitCode}: {Output}");
            try
            {
                if (await CommandAsync("PING") is "PONG")
                    return;
            }
            catch (SocketException)
            {
                // not listening yet
            }

            if (DateTime.UtcNow >= deadline)
                throw new TimeoutException($"redis-server on port {Port} did not answer PING within {StartTimeout}: {Output}");
            await Task.Delay(20);
        }
    }

    /// <summary>Kills the server (as a crash or an outage would) and waits until it is gone; its data is lost.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
            return;
        if (!_process.HasExited)
            _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    /// <summary>
    /// Sends one command with a plain RESP client of its own, independent of the code under test. Replies: simple
    /// strings as <see cref="string"/>, bulk strings as <see cref="byte"/>[], integers as <see cref="long"/>,
    /// arrays as <see cref="object"/>[], nil as null; an error reply throws <see cref="InvalidOperationException"/>.
    /// </summary>
    public async Task<object?> CommandAsync(params object[] arguments)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port);
        var stream = client.GetStream();
        var request = new MemoryStream();
        Write(request, $"*{arguments.Length}\r\n");
        foreach (var argument in arguments)
        {
            var bytes = argument as byte[] ?? Encoding.UTF8.GetBytes(Convert.ToString(argument, System.Globalization.CultureInfo.InvariantCulture)!);
            Write(request, $"${bytes.Length}\r\n");
            request.Write(bytes);
            Write(request, "\r\n");
        }

        await stream.WriteAsync(request.ToArray());
        return await ReadReplyAsync(new BufferedStream(stream));
    }

    /// <summary>The server's own output so far, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    Task IAsyncLifetime.InitializeAsync() => StartAsync();

    Task IAsyncLifetime.DisposeAsync() => StopAsync();

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync();

    private void Record(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    private static void Write(Stream stream, string text) => stream.Write(Encoding.ASCII.GetBytes(text));

    private static async Task<object?> ReadReplyAsync(Stream stream)
    {
        var line = await ReadLineAsync(stream);
        var payload = line[1..];
        switch (line[0])
        {
            case '+':
                return payload;
            case '-':
                throw new InvalidOperationException($"Redis replied with an error: {payload}");
            case ':':
                return long.Parse(payload, System.Globalization.CultureInfo.InvariantCulture);
            case '$':
                var length = int.Parse(payload, System.Globalization.CultureInfo.InvariantCulture);
                if (length < 0)
                    return null;
                var bulk = new byte[length + 2];
                await stream.ReadExactlyAsync(bulk);
                return bulk[..length];
            case '*':
                var count = int.Parse(payload, System.Globalization.CultureInfo.InvariantCulture);
                if (count < 0)
                    return null;
                var items = new object?[count];
                for (var i = 0; i < count; i++)
                    items[i] = await ReadReplyAsync(stream);
                return items;
            default:
                throw new InvalidOperationException($"Unexpected RESP reply: {line}");
        }
    }

    private static async Task<string> ReadLineAsync(Stream stream)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one) == 0)
                throw new SocketException((int)SocketError.ConnectionReset);
            if (one[0] == '\n' && line.Length > 0 && line[^1] == '\r')
                return line.ToString(0, line.Length - 1);
            line.Append((char)one[0]);
        }
    }
}
