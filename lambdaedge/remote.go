package lambdaedge

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// remote invokes functions through a Lambda Invoke API (lambdaEndpoint:
// AWS itself, LocalStack, a SAM local start-lambda …) with the AWS SDK.
type remote struct {
	client *lambda.Client
}

// newRemote returns an invoker for endpoint. Credentials are the
// environment's AWS keys when set, else placeholders (local Lambda
// emulators do not check them); retries are off, so that a function runs
// once per event as CloudFront runs it.
func newRemote(endpoint string, env func(string) string) *remote {
	id, secret, token := env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")
	if id == "" || secret == "" {
		id, secret, token = "edgefront", "edgefront", ""
	}
	client := lambda.New(lambda.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(id, secret, token),
		Retryer:      aws.NopRetryer{},
	})
	return &remote{client: client}
}

// invoke runs the function arn on event and returns its result.
func (r *remote) invoke(ctx context.Context, arn string, event []byte) ([]byte, error) {
	out, err := r.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(arn), Payload: event,
		InvocationType: types.InvocationTypeRequestResponse})
	if err != nil {
		return nil, fmt.Errorf("invoking %s: %w", arn, err)
	}
	if out.FunctionError != nil {
		fe := &FunctionError{Type: *out.FunctionError}
		var body struct {
			Type    string `json:"errorType"`
			Message string `json:"errorMessage"`
		}
		if json.Unmarshal(out.Payload, &body) == nil {
			fe.Message = body.Message
			if body.Type != "" {
				fe.Type = body.Type
			}
		}
		return nil, fe
	}
	return out.Payload, nil
}
