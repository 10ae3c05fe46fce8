using System.Net;

namespace MeshActors.Cli;

/// <summary>Where <c>mesh node</c> listens: its <c>--port</c>, <c>--host</c> and <c>--advertise</c>; null members keep the transport's defaults.</summary>
internal sealed record Listen(int Port, string? Host, string? AdvertisedHost)
{
    /// <summary>
    /// Refuses a host the listener cannot bind or other nodes cannot dial before the node starts: inside the node
    /// either fails only an actor, which leaves the node running but never registered.
    /// </summary>
    public Listen Validated()
    {
        if (Host is not null && !IPAddress.TryParse(Host, out _) && !string.Equals(Host, "localhost", StringComparison.OrdinalIgnoreCase))
            throw new CliException($"--host must be an IP address or 'localhost', not '{Host}'.");
        if (AdvertisedHost is not null && Uri.CheckHostName(AdvertisedHost) == UriHostNameType.Unknown)
            throw new CliException($"--advertise must be a host name or an IP address, not '{AdvertisedHost}'.");
        return this;
    }
}
