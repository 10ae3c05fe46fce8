using System.Reflection;
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
        var options = configuration is null ? new MeshOptions() : Bind(configuration.GetSection(SectionName), name);
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

    private static MeshOptions Bind(IConfigurationSection section, string name)
    {
        var options = new MeshOptions();
        try
        {
            section.Bind(options);
            return options;
        }
        catch (Exception ex) when (Refusal(ex) is { } refusal)
        {
            // The binder stops at the first value an option's setter refuses and names neither its key nor its value:
            // binding each key alone finds every refused one, so the start fails as validation does, naming them all.
            var failures = RefusedKeys(section);
            if (failures.Count == 0)
                failures.Add($"Configuration section {section.Path} is refused: {Reason(refusal)}");
            throw new OptionsValidationException(name, typeof(MeshOptions), failures);
        }
    }

    private static List<string> RefusedKeys(IConfigurationSection section)
    {
        var failures = new List<string>();
        foreach (var (key, value) in section.AsEnumerable())
        {
            if (value is null)
                continue;
            var alone = new ConfigurationBuilder().AddInMemoryCollection([new(key, value)]).Build();
            try
            {
                alone.GetSection(section.Path).Bind(new MeshOptions());
            }
            catch (Exception ex) when (Refusal(ex) is { } refusal)
            {
                failures.Add($"Configuration {key} = '{value}' is refused: {Reason(refusal)}");
            }
        }

        return failures;
    }

    // The reflection binder wraps what a setter throws in a TargetInvocationException; a source-generated one would not.
    private static ArgumentException? Refusal(Exception ex) =>
        ex as ArgumentException ?? (ex as TargetInvocationException)?.InnerException as ArgumentException;

    // As MeshOptions.ValidationErrors does: the sentence without ArgumentException's "(Parameter ...)" and "Actual value" lines.
    private static string Reason(ArgumentException refusal) => refusal.Message.Split(" (Parameter")[0];
}
