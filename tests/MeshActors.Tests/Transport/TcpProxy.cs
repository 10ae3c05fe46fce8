using System.Net;
using System.Net.Sockets;

namespace MeshActors.Tests.Transport;

/// <summary>
/// A TCP relay between a dialer and a listener that a test can make misbehave: <see cref="Hang"/> stops forwarding
/// (a hung peer: sockets open, nothing answers), <see cref="Crash"/> resets every socket (a crashed peer).
/// </summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly IPEndPoint _target;
    private readonly List<Socket> _sockets = [];
    private volatile bool _hung;
    private readonly CancellationTokenSource _stopped = new();
    private readonly Task _accepting;

    public TcpProxy(IPEndPoint target)
    {
        _target = target;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        _accepting = AcceptAsync();
    }

    public DnsEndPoint Address => new("127.0.0.1", ((IPEndPoint)_listener.LocalEndPoint!).Port);

    /// <summary>Connections relayed so far.</summary>
    public int Connections { get; private set; }

    /// <summary>Stops forwarding in both directions; sockets stay open and bytes in flight are held.</summary>
    public void Hang() => _hung = true;

    /// <summary>Resets every relayed socket, as the kernel does for a process that died.</summary>
    public void Crash()
    {
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
            }

            _sockets.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopped.Cancel();
        _listener.Close();
        Crash();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task AcceptAsync()
    {
        while (!_stopped.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopped.Token);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                return;
            }

            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await server.ConnectAsync(_target);
            lock (_sockets)
            {
                _sockets.Add(client);
                _sockets.Add(server);
                Connections++;
            }

            _ = RelayAsync(client, server);
            _ = RelayAsync(server, client);
        }
    }

    private async Task RelayAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (_hung)
                {
                    // A hung relay drops what it read and never reads again; its sockets stay open.
                    return;
                }

                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Crash() or the other side closed: the relay ends with its sockets.
        }
    }
}
