using System.Net;
using System.Net.Sockets;

namespace MeshActors.Testing;

/// <summary>Hands out loopback TCP ports that nothing listens on right now.</summary>
public static class FreePort
{
    /// <summary>A port the OS just proved free by binding it; another process could still take it, which is rare enough for tests.</summary>
    public static int Next()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }
}
