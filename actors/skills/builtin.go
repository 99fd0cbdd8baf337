package skills

import (
	"context"

	"github.com/bizra/bizra/actors/skills/smartfiles"
)

// smartFiles adapts *smartfiles.Skill to Skill.
type smartFiles struct{ s *smartfiles.Skill }

func (smartFiles) Info() Info {
	return Info{
		Name:           smartfiles.Name,
		Description:    smartfiles.Description,
		Status:         StatusAvailable,
		Agent:          smartfiles.Agent,
		Tags:           append([]string(nil), smartfiles.Tags...),
		Version:        smartfiles.Version,
		RequiredInputs: []InputSpec{{Name: "operation", Type: TypeString}},
	}
}

func (a smartFiles) Run(ctx context.Context, inputs map[string]any) (any, error) {
	return a.s.Run(ctx, inputs)
}

// NewSmartFiles returns the Smart Files skill over opts.Root as a Skill.
func NewSmartFiles(opts smartfiles.Options) (Skill, error) {
	s, err := smartfiles.New(opts)
	if err != nil {
		return nil, err
	}
	return smartFiles{s}, nil
}
