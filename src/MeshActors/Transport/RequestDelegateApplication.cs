using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace MeshActors.Transport;

/// <summary>Runs one request delegate on a server without the web host's pipeline, middleware or routing.</summary>
internal sealed class RequestDelegateApplication(RequestDelegate handle) : IHttpApplication<HttpContext>
{
    public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures);

    public Task ProcessRequestAsync(HttpContext context) => handle(context);

    public void DisposeContext(HttpContext context, Exception? exception)
    {
    }
}
