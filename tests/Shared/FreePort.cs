using System.Net;
using System.Net.Sockets;

namespace MeshActors.Testing;

/// <summary>Hands out loopback TCP ports that nothing listens on right now, never the same one twice in a test run.</summary>
/// <remarks>
/// A port freed by a stopped server must not be handed to another test while the first one means to restart on it;
/// another process could still take a port, which is rare enough for tests.
/// </remarks>
public static class FreePort
{
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>A port the OS just proved free by binding it.</summary>
    public static int Next()
    {
        while (true)
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            lock (HandedOut)
            {
                if (HandedOut.Add(port))
                    return port;
            }
        }
    }
}
