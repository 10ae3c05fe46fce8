using MeshActors.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace MeshActors.Hosting.Tests;

/// <summary>
/// Settings from a host's configuration that cannot work: docs/messaging.md, Hosting, promises that "a bad setting
/// fails the start with an OptionsValidationException whose Failures name every bad setting", and that what the binder
/// cannot make from text is refused naming its key rather than left out.
/// </summary>
public sealed class MeshHostingSettingsSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-hosting-" + Guid.NewGuid().ToString("N"));
    private readonly List<IHost> _hosts = [];

    private string Prefix { get; } = "hosting-" + Guid.NewGuid().ToString("N")[..8];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            try
            {
                await host.StopAsync();
            }
            catch (Exception ex)
            {
                output.WriteLine("stop at the end: " + ex.GetType().Name);
            }

            host.Dispose();
        }

        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Every_bad_discovery_and_messaging_setting_must_be_named_in_the_start_failure_not_only_the_first_of_each_record()
    {
        // MeshOptions.ValidationErrors: "Every setting that cannot work, each as one sentence naming it". Four bad
        // settings, two in each record: an operator fixing them one start at a time must not find them two by two.
        var host = Build("four-bad", new()
        {
            ["Mesh:Discovery:CommandTimeout"] = "00:00:00",
            ["Mesh:Discovery:MaxRegistrationBytes"] = "10",
            ["Mesh:Messaging:RequestTimeout"] = "00:00:00",
            ["Mesh:Messaging:SubscriberBacklogLimit"] = "1",
        });

        var failure = await Record.ExceptionAsync(() => host.StartAsync());

        var refused = Assert.IsType<OptionsValidationException>(failure);
        foreach (var setting in new[] { "CommandTimeout", "MaxRegistrationBytes", "RequestTimeout", "SubscriberBacklogLimit" })
            Assert.True(refused.Failures.Any(text => text.Contains(setting)), $"{setting} is not named; the failures were:\n{string.Join("\n", refused.Failures)}");
    }

    [Theory]
    [InlineData("7")]
    [InlineData("-1")]
    public async Task A_configured_overflow_policy_that_is_no_policy_must_fail_the_start_naming_its_key(string value)
    {
        // PeerOverflowPolicy has two values, Wait and Fail. The binder takes any number for an enum; PeerLink treats
        // every value but Wait as Fail, so a node configured with nonsense runs dropping sends that should have waited.
        var host = Build("overflow", new() { ["Mesh:Peers:OverflowPolicy"] = value });

        var failure = await Record.ExceptionAsync(() => host.StartAsync());

        if (failure is null)
            Assert.Fail($"OverflowPolicy = '{value}' was accepted: the node runs with policy {host.Services.GetRequiredService<IOptions<MeshOptions>>().Value.Peers.OverflowPolicy}");
        var refused = Assert.IsType<OptionsValidationException>(failure);
        Assert.Contains(refused.Failures, text => text.Contains("OverflowPolicy"));
    }

    [Theory]
    [InlineData("Mesh:Transport:CertificateChain", "chain.pem")]
    [InlineData("Mesh:Transport:CertificateChain:Path", "chain.pem")]
    public async Task A_configured_certificate_chain_must_be_applied_or_refused_naming_its_key_never_left_out_silently(string key, string value)
    {
        // The factory refuses the other TLS objects given as text (Certificate, TrustedRoots, RemoteCertificateValidation)
        // because the binder would leave them out without a word. Without a Certificate a chain cannot work either way:
        // applied, the options refuse "CertificateChain is set without a Certificate"; refused, its key is named.
        var host = Build("chain", new() { [key] = value });

        var failure = await Record.ExceptionAsync(() => host.StartAsync());

        if (failure is null)
            Assert.Fail($"{key} = '{value}' was left out without a word: the node started, its chain {host.Services.GetRequiredService<IOptions<MeshOptions>>().Value.Transport.CertificateChain?.Count.ToString() ?? "null"}");
        var refused = Assert.IsType<OptionsValidationException>(failure);
        Assert.Contains(refused.Failures, text => text.Contains("CertificateChain"));
    }

    private IHost Build(string name, Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Mesh:NodeName"] = name,
            ["Mesh:Discovery:Registry"] = "local:" + _root,
            ["Mesh:Discovery:KeyPrefix"] = Prefix,
            ["Mesh:Discovery:HeartbeatInterval"] = "00:00:00.250",
            ["Mesh:Discovery:Ttl"] = "00:00:02",
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddProvider(new OutputLoggerProvider(output));
        builder.Services.AddMeshActors();
        var host = builder.Build();
        _hosts.Add(host);
        return host;
    }
}
