namespace MeshActors.Cli;

/// <summary>Where <c>mesh node</c> listens: its <c>--port</c>, <c>--host</c> and <c>--advertise</c>; null members keep the transport's defaults.</summary>
internal sealed record Listen(int Port, string? Host, string? AdvertisedHost);
