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

    public MeshOptions Create(string name)
    {
        var options = new MeshOptions();
        configuration?.GetSection(SectionName).Bind(options);
        foreach (var configure in configurations)
            options = configure.Configure(options) ?? throw new InvalidOperationException("An AddMeshActors callback returned null options.");

        var failures = validators
            .Select(validator => validator.Validate(name, options))
            .Where(result => result.Failed)
            .SelectMany(result => result.Failures ?? [])
            .ToList();
        if (failures.Count > 0)
            throw new OptionsValidationException(name, typeof(MeshOptions), failures);
        return options;
    }
}
