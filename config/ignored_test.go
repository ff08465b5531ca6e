package config

import (
	"slices"
	"strings"
	"testing"
)

// TestWarnings: every setting of the one not-emulated table that a
// configuration uses is a warning naming the file and the field path; a
// configuration that uses none has no warnings; neither is an error.
func TestWarnings(t *testing.T) {
	tests := []struct {
		file string
		want []string // "file: field" of each warning, in order
	}{
		{"testdata/not-emulated.yaml", []string{
			"testdata/not-emulated.yaml: DistributionConfig.Logging",
			"testdata/not-emulated.yaml: DistributionConfig.WebACLId",
			"testdata/not-emulated.yaml: DistributionConfig.ViewerCertificate.ACMCertificateArn",
			"testdata/not-emulated.yaml: DistributionConfig.ContinuousDeploymentPolicyId",
			"testdata/not-emulated.yaml: DistributionConfig.Staging",
			"testdata/not-emulated.yaml: DistributionConfig.AnycastIpListId",
			"testdata/not-emulated.yaml: DistributionConfig.TenantConfig",
			"testdata/not-emulated.yaml: DistributionConfig.ConnectionMode",
			"testdata/not-emulated.yaml: DistributionConfig.ConnectionFunctionAssociation",
			"testdata/not-emulated.yaml: DistributionConfig.ViewerMtlsConfig",
			"testdata/not-emulated.yaml: DistributionConfig.CacheTagConfig",
			"testdata/not-emulated.yaml: DistributionConfig.Origins.Items[0].CustomOriginConfig.OriginMtlsConfig",
			"testdata/not-emulated.yaml: DistributionConfig.DefaultCacheBehavior.FieldLevelEncryptionId",
			"testdata/not-emulated.yaml: DistributionConfig.DefaultCacheBehavior.RealtimeLogConfigArn",
			"testdata/not-emulated.yaml: DistributionConfig.DefaultCacheBehavior.SmoothStreaming",
			"testdata/not-emulated.yaml: DistributionConfig.CacheBehaviors.Items[0].GrpcConfig",
			// A function association runs the function the settings
			// define; a bare DistributionConfig defines none.
			"testdata/not-emulated.yaml: DistributionConfig.DefaultCacheBehavior.FunctionAssociations.Items[0].FunctionARN",
			// Likewise Lambda@Edge: no lambdaFunctions, no lambdaEndpoint.
			"testdata/not-emulated.yaml: DistributionConfig.DefaultCacheBehavior.LambdaFunctionAssociations.Items[0].LambdaFunctionARN",
		}},
		// A settings file: the warning names the configFile it comes from.
		{"testdata/edgefront.yaml", []string{"testdata/distribution.json: DistributionConfig.ViewerCertificate.ACMCertificateArn"}},
		// A template: fields are named as the template spells them.
		{"testdata/cloudformation/site.yaml", []string{
			"testdata/cloudformation/site.yaml: Resources.Website.Properties.DistributionConfig.Logging",
			"testdata/cloudformation/site.yaml: Resources.Website.Properties.DistributionConfig.ViewerCertificate.AcmCertificateArn",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cfg, err := Load(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range cfg.Warnings() {
				if !strings.HasPrefix(w.Reason, "accepted but not emulated: ") {
					t.Errorf("warning %v", w)
				}
				got = append(got, w.File+": "+w.Field)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
