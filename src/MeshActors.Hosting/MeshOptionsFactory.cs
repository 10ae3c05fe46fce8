using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using MeshActors.Messaging;
using MeshActors.Transport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace MeshActors.Hosting;

/// <summary>
/// Makes the node's <see cref="MeshOptions"/>: the defaults, then configuration section <c>Mesh</c>, then each
/// <c>AddMeshActors</c> callback in order, then validation. <see cref="MeshOptions"/> is an immutable record, so the
/// callbacks return a changed copy (<c>options =&gt; options with { NodeName = "pricing" }</c>) instead of mutating it.
/// </summary>
internal sealed class MeshOptionsFactory(
    IEnumerable<MeshOptionsConfiguration> configurations,
    IEnumerable<IValidateOptions<MeshOptions>> validators,
    IConfiguration? configuration = null) : IOptionsFactory<MeshOptions>
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "Mesh";

    private const string CertificateKey = "Transport:Certificate";
    private const string ValidationKey = "Transport:RemoteCertificateValidation";
    private const string TrustedRootsKey = "Transport:TrustedRoots";
    private const string ChainKey = "Transport:CertificateChain";
    private const string JsonKey = "Json";

    // Options that are objects the binder cannot make from text: it would leave a value out without a word.
    private static readonly string[] CodeOnlyKeys = ["LoggerFactory", "MeterFactory", ValidationKey];

    // Options that name one of the built-in strategies (LoadBalancers): the binder cannot make an interface either.
    private static readonly string[] BalancerKeys = ["Messaging:TopicGroupBalancer", "Messaging:ServiceBalancer"];

    public MeshOptions Create(string name)
    {
        var failures = new List<string>();
        var options = configuration is null ? new MeshOptions() : Bind(configuration.GetSection(SectionName), failures);
        foreach (var configure in configurations)
            options = configure.Configure(options) ?? throw new InvalidOperationException("An AddMeshActors callback returned null options.");

        failures.AddRange(validators
            .Select(validator => validator.Validate(name, options))
            .Where(result => result.Failed)
            .SelectMany(result => result.Failures ?? []));
        if (failures.Count > 0)
            throw new OptionsValidationException(name, typeof(MeshOptions), failures);
        return options;
    }

    /// <summary>
    /// Binds the section, leaving out each value it cannot take (one an option's setter refuses, one that does not
    /// convert) and naming it in <paramref name="failures"/>, so that the start fails once, naming every bad setting.
    /// </summary>
    private static MeshOptions Bind(IConfigurationSection section, List<string> failures)
    {
        var values = section.AsEnumerable().Where(entry => entry.Value is not null && !IsObject(section, entry.Key)).ToList();
        var options = Unbound(section);
        if (BindingFailure(section.Path, values, options) is not null)
        {
            // The binder stops at the first bad value, and does not always name its key: binding each key alone
            // finds every one.
            options = BindEach(section, values, failures);
        }

        foreach (var key in CodeOnlyKeys.Where(key => section.GetSection(key).Exists()))
            failures.Add($"Configuration {section.Path}:{key} is refused: it is an object, not a setting; set MeshOptions.{key.Replace(':', '.')} in AddMeshActors.");
        return WithTls(WithBalancers(options, section, failures), section, failures);
    }

    /// <summary>
    /// The defaults the section binds onto: with a JSON setting, a copy of the shared, read-only
    /// <see cref="JsonSerializerOptions.Web"/> default, which the binder would otherwise fail to change.
    /// </summary>
    private static MeshOptions Unbound(IConfigurationSection section) =>
        section.GetSection(JsonKey).Exists() ? new MeshOptions { Json = new JsonSerializerOptions(JsonSerializerOptions.Web) } : new MeshOptions();

    // Such values are left to WithTls, WithBalancers and the refusal of code-only keys: bound as text they would be
    // left out without a word (the node then speaking cleartext, say), or fail the binder on a section.
    // Whole path segments: Transport:Certificate is not Transport:CertificateChain.
    private static bool IsObject(IConfigurationSection section, string key) =>
        CodeOnlyKeys.Concat(BalancerKeys).Append(CertificateKey).Append(TrustedRootsKey).Append(ChainKey)
            .Select(name => section.Path + ":" + name)
            .Any(name => key.Equals(name, StringComparison.OrdinalIgnoreCase) || key.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase));

    private static MeshOptions WithBalancers(MeshOptions options, IConfigurationSection section, List<string> failures)
    {
        var messaging = options.Messaging;
        foreach (var key in BalancerKeys)
        {
            var setting = section.GetSection(key);
            if (!setting.Exists())
                continue;
            if (setting.Value is null || !LoadBalancers.ByName.TryGetValue(setting.Value, out var balancer))
            {
                failures.Add($"Configuration {setting.Path} = '{setting.Value}' is refused: name one of {string.Join(", ", LoadBalancers.ByName.Keys)}; a strategy of your own is set in AddMeshActors.");
                continue;
            }

            messaging = key.EndsWith(nameof(MessagingOptions.ServiceBalancer), StringComparison.Ordinal)
                ? messaging with { ServiceBalancer = balancer }
                : messaging with { TopicGroupBalancer = balancer };
        }

        return options with { Messaging = messaging };
    }

    private static MeshOptions BindEach(IConfigurationSection section, List<KeyValuePair<string, string?>> values, List<string> failures)
    {
        var accepted = new List<KeyValuePair<string, string?>>();
        foreach (var (key, value) in values)
        {
            if (BindingFailure(section.Path, [new(key, value)], Unbound(section)) is { } refusal)
                failures.Add($"Configuration {key} = '{value}' is refused: {refusal}");
            else
                accepted.Add(new(key, value));
        }

        var options = Unbound(section);
        if (BindingFailure(section.Path, accepted, options) is { } together)
            failures.Add($"Configuration section {section.Path} is refused: {together}"); // values refused only together
        return options;
    }

    private static MeshOptions WithTls(MeshOptions options, IConfigurationSection section, List<string> failures)
    {
        var certificate = Load(section.GetSection(CertificateKey), "name the certificate's file as {0}:Path (PKCS#12, or PEM with {0}:KeyPath), with {0}:Password when it has one",
            file =>
            {
                var loaded = MeshCertificates.Load(file.Path, file.Section["KeyPath"], file.Section["Password"]);
                return new ServerCertificate(loaded, MeshCertificates.LoadChain(file.Path, loaded, file.Section["Password"]));
            },
            failures);
        var roots = Load(section.GetSection(TrustedRootsKey), "name a PEM file of the certificates the node trusts as {0}:Path",
            file => MeshCertificates.LoadTrustedRoots(file.Path), failures);
        if (section.GetSection(ChainKey).Exists())
            failures.Add($"Configuration {section.Path}:{ChainKey} is refused: the chain is read from the certificate's own file (a full-chain PEM or PKCS#12), named as {section.Path}:{CertificateKey}:Path.");
        return options with
        {
            Transport = options.Transport with
            {
                Certificate = certificate?.Certificate ?? options.Transport.Certificate,
                CertificateChain = certificate is { Chain.Count: > 0 } ? certificate.Chain : options.Transport.CertificateChain,
                TrustedRoots = roots ?? options.Transport.TrustedRoots,
            },
        };
    }

    /// <summary>What <paramref name="load"/> reads from the file <paramref name="tls"/><c>:Path</c> names; null when the section is absent or the file is refused.</summary>
    private static T? Load<T>(IConfigurationSection tls, string howToName, Func<(string Path, IConfigurationSection Section), T> load, List<string> failures)
        where T : class
    {
        if (!tls.Exists())
            return null;
        if (tls["Path"] is not { } path)
        {
            failures.Add($"Configuration {tls.Path} is refused: {string.Format(CultureInfo.InvariantCulture, howToName, tls.Path)}.");
            return null;
        }

        try
        {
            return load((path, tls));
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            failures.Add($"Configuration {tls.Path}:Path = '{path}' is refused: {ex.Message}");
            return null;
        }
    }

    /// <summary>Binds <paramref name="values"/> to <paramref name="options"/>; why they were refused, or null.</summary>
    private static string? BindingFailure(string path, IEnumerable<KeyValuePair<string, string?>> values, MeshOptions options)
    {
        try
        {
            new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(path).Bind(options);
            return null;
        }
        catch (Exception ex) when (Refusal(ex) is { } refusal)
        {
            return refusal;
        }
    }

    /// <summary>
    /// Why the binder refused a value, or null for an exception that is not about the configuration: a setter's
    /// <see cref="ArgumentException"/> (wrapped in a <see cref="TargetInvocationException"/> by the reflection binder),
    /// or the binder's own <see cref="InvalidOperationException"/> for a value that does not convert.
    /// </summary>
    private static string? Refusal(Exception ex) => ex switch
    {
        TargetInvocationException { InnerException: ArgumentException refused } => Reason(refused),
        TargetInvocationException { InnerException: { } thrown } => thrown.Message,
        ArgumentException refused => Reason(refused),
        InvalidOperationException unconvertible => unconvertible.Message,
        _ => null,
    };

    // As MeshOptions.ValidationErrors does: the sentence without ArgumentException's "(Parameter ...)" and "Actual value" lines.
    private static string Reason(ArgumentException refusal) => refusal.Message.Split(" (Parameter")[0];

    private sealed record ServerCertificate(X509Certificate2 Certificate, X509Certificate2Collection Chain);
}
